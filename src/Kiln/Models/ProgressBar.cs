using System.Globalization;
using System.Text;

namespace Kiln.Models;

/// <summary>
/// Keras's progress output for Fit and Evaluate. Verbose 1 on a terminal draws a bar redrawn in place
/// with '\r' while the batches run (<c>12/469 [>.............................] - ETA: 11s - loss: 0.6612</c>)
/// and leaves one final line per epoch
/// (<c>469/469 [==============================] - 12s 26ms/step - loss: 0.4123 - accuracy: 0.8512 - 5012 samples/s</c>);
/// verbose 1 into a redirected output writes only the final line, and verbose 2 writes the final line
/// without the bar. Fit writes <c>Epoch 3/10</c> before each epoch. Values are the logs in their order,
/// with four decimals (scientific below 1e-3).
/// </summary>
internal sealed class ProgressBar
{
    /// <summary>Characters of the bar between the brackets.</summary>
    internal const int Width = 30;

    /// <summary>The shortest time between two redraws in place; the final line is always written.</summary>
    internal static readonly TimeSpan RedrawInterval = TimeSpan.FromSeconds(0.05);

    private static readonly long Origin = System.Diagnostics.Stopwatch.GetTimestamp();

    private readonly TextWriter _output;
    private readonly bool _bar;
    private readonly bool _inPlace;
    private readonly Func<TimeSpan> _clock;
    private readonly StringBuilder _line = new();
    private int _target;
    private TimeSpan _start;
    private TimeSpan _lastDraw;
    private int _drawnWidth;

    /// <summary>
    /// Progress for <paramref name="verbose"/> 1 (a bar) or 2 (one line per epoch) written to
    /// <paramref name="output"/>; <paramref name="inPlace"/> when it is a terminal. <paramref name="clock"/>
    /// (time since any fixed origin) defaults to a stopwatch.
    /// </summary>
    internal ProgressBar(TextWriter output, int verbose, bool inPlace, Func<TimeSpan>? clock = null)
    {
        _output = output;
        _bar = verbose == 1;
        _inPlace = inPlace && _bar;
        _clock = clock ?? (static () => System.Diagnostics.Stopwatch.GetElapsedTime(Origin));
    }

    /// <summary>Writes Fit's epoch header (<c>Epoch 3/10</c> for 0-based <paramref name="epoch"/> 2).</summary>
    internal void Epoch(int epoch, int epochs) => _output.WriteLine($"Epoch {epoch + 1}/{epochs}");

    /// <summary>Starts timing a pass of <paramref name="target"/> batches.</summary>
    internal void Start(int target)
    {
        _target = target;
        _start = _clock();
        _lastDraw = _start;
        _drawnWidth = 0;
    }

    /// <summary>After batch <paramref name="current"/> (1-based): redraws the bar in place, at most every <see cref="RedrawInterval"/>.</summary>
    internal void Update(int current, Dictionary<string, double> logs)
    {
        if (!_inPlace) return;
        var now = _clock();
        if (now - _lastDraw < RedrawInterval && _drawnWidth > 0) return;
        _lastDraw = now;
        _line.Clear();
        AppendCount(current);
        AppendBar(current);
        double perStep = current > 0 ? (now - _start).TotalSeconds / current : 0;
        _line.Append(" - ETA: ").Append(FormatEta(perStep * (_target - current)));
        AppendValues(logs);
        Draw(final: false);
    }

    /// <summary>Writes the final line of a pass of <paramref name="current"/> batches and <paramref name="samples"/> samples, with <paramref name="logs"/>.</summary>
    internal void Finish(int current, long samples, Dictionary<string, double> logs)
    {
        double elapsed = (_clock() - _start).TotalSeconds;
        _line.Clear();
        AppendCount(current);
        if (_bar) AppendBar(current);
        _line.Append(" - ").Append(Format("F0", elapsed)).Append('s');
        if (current > 0) _line.Append(' ').Append(FormatPerStep(elapsed / current));
        AppendValues(logs);
        if (elapsed > 0 && samples > 0) _line.Append(" - ").Append(Format("F0", samples / elapsed)).Append(" samples/s");
        Draw(final: true);
    }

    private void Draw(bool final)
    {
        if (_inPlace)
        {
            int width = _line.Length;
            _output.Write('\r');
            _output.Write(_line);
            if (_drawnWidth > width) _output.Write(new string(' ', _drawnWidth - width));
            _drawnWidth = Math.Max(width, 1);
            if (final) _output.Write(_output.NewLine);
        }
        else
        {
            _output.Write(_line);
            _output.Write(_output.NewLine);
        }
        _output.Flush();
    }

    private void AppendCount(int current)
    {
        int digits = _target.ToString(CultureInfo.InvariantCulture).Length;
        _line.Append(current.ToString(CultureInfo.InvariantCulture).PadLeft(digits)).Append('/').Append(_target);
    }

    // Keras's bar: '=' for the batches done, '>' at the head while running, '.' for the rest.
    private void AppendBar(int current)
    {
        int done = _target > 0 ? (int)((long)Width * Math.Min(current, _target) / _target) : Width;
        _line.Append(" [");
        if (done > 0)
        {
            _line.Append('=', done - 1);
            _line.Append(current < _target ? '>' : '=');
        }
        _line.Append('.', Width - done).Append(']');
    }

    private void AppendValues(Dictionary<string, double> logs)
    {
        foreach (var (name, value) in logs)
            _line.Append(" - ").Append(name).Append(": ").Append(FormatValue(value));
    }

    internal static string FormatValue(double value)
        => Math.Abs(value) > 1e-3 || double.IsNaN(value) ? Format("F4", value) : Format("0.0000e+00", value);

    internal static string FormatEta(double seconds)
    {
        long s = (long)Math.Max(0, seconds);
        if (s > 3600) return $"{s / 3600}:{s % 3600 / 60:00}:{s % 60:00}";
        if (s > 60) return $"{s / 60}:{s % 60:00}";
        return $"{s}s";
    }

    internal static string FormatPerStep(double seconds)
    {
        if (seconds >= 1 || seconds == 0) return Format("F0", seconds) + "s/step";
        if (seconds >= 1e-3) return Format("F0", seconds * 1e3) + "ms/step";
        return Format("F0", seconds * 1e6) + "us/step";
    }

    private static string Format(string format, double value) => value.ToString(format, CultureInfo.InvariantCulture);
}
