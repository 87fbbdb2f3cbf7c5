using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kiln;

/// <summary>
/// Where the time of a piece of code goes, op by op (torch.profiler's <c>key_averages().table()</c>):
/// started by <c>Engine.Profile()</c>, it times every op run while it is active — eager ops (forward
/// and the backward pass's gradient ops), the nodes of compiled graphs, and optimizer updates — and
/// <see cref="Table"/> lists them by total time. An op run inside another op's forward counts toward
/// the outer op only, so the rows add up to the time spent in ops. One profiler runs at a time; it
/// costs nothing when none is active.
/// </summary>
public sealed class Profiler : IDisposable
{
    private static Profiler? s_active;
    [ThreadStatic] private static int t_depth;

    private readonly object _gate = new();
    private readonly Dictionary<string, (long Ticks, long Calls)> _rows = new();
    private readonly bool _recordShapes;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private bool _stopped;

    private Profiler(bool recordShapes) => _recordShapes = recordShapes;

    /// <summary>The profiler recording now, or null (one static read: what every op pays when none is).</summary>
    internal static Profiler? Active => Volatile.Read(ref s_active);

    /// <summary>Starts recording (see <c>Engine.Profile</c>).</summary>
    internal static Profiler Start(bool recordShapes)
    {
        var profiler = new Profiler(recordShapes);
        if (Interlocked.CompareExchange(ref s_active, profiler, null) is not null)
            throw new InvalidOperationException("a profiler is already recording; dispose it before starting another");
        t_depth = 0;
        return profiler;
    }

    /// <summary>Marks the start of an op on this thread; returns its timestamp.</summary>
    internal long Enter()
    {
        t_depth++;
        return Stopwatch.GetTimestamp();
    }

    /// <summary>Ends the op entered at <paramref name="start"/>, recording it when it is not inside another op.</summary>
    internal void Exit(long start, string name, ReadOnlySpan<Tensor> inputs)
    {
        long ticks = Stopwatch.GetTimestamp() - start;
        if (--t_depth > 0 || _stopped) return;
        string key = _recordShapes ? name + " " + Shapes(inputs) : name;
        lock (_gate)
        {
            _rows.TryGetValue(key, out var row);
            _rows[key] = (row.Ticks + ticks, row.Calls + 1);
        }
    }

    private static string Shapes(ReadOnlySpan<Tensor> inputs)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < inputs.Length; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append('[').AppendJoin(',', inputs[i].ShapeArray).Append(']');
        }
        return text.Append(']').ToString();
    }

    /// <summary>Wall time since the profiler started, up to <see cref="Dispose"/>.</summary>
    public TimeSpan Elapsed => _wall.Elapsed;

    /// <summary>
    /// The ops recorded, by total time: calls, total and mean milliseconds, and share of the time spent in
    /// ops; the first <paramref name="top"/> rows, then the total and the wall time.
    /// </summary>
    public string Table(int top = 25)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        List<KeyValuePair<string, (long Ticks, long Calls)>> rows;
        lock (_gate) rows = _rows.ToList();
        rows.Sort((a, b) => b.Value.Ticks.CompareTo(a.Value.Ticks));
        long total = 0;
        foreach (var row in rows) total += row.Value.Ticks;
        int width = Math.Max(2, rows.Take(top).Select(r => r.Key.Length).DefaultIfEmpty(2).Max());
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append("op".PadRight(width)).Append("     calls    total ms    mean ms   share\n");
        foreach (var (name, (ticks, calls)) in rows.Take(top))
            text.Append(name.PadRight(width))
                .Append(calls.ToString(c).PadLeft(10))
                .Append(Milliseconds(ticks).ToString("F3", c).PadLeft(12))
                .Append((Milliseconds(ticks) / calls).ToString("F4", c).PadLeft(11))
                .Append((total == 0 ? 0 : 100.0 * ticks / total).ToString("F1", c).PadLeft(7)).Append("%\n");
        if (rows.Count > top) text.Append($"... {rows.Count - top} more\n");
        text.Append(CultureInfo.InvariantCulture, $"in ops: {Milliseconds(total):F3} ms of {Elapsed.TotalMilliseconds:F3} ms wall\n");
        return text.ToString();
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <inheritdoc cref="Table"/>
    public override string ToString() => Table();

    /// <summary>Stops recording; the table stays readable.</summary>
    public void Dispose()
    {
        if (_stopped) return;
        _stopped = true;
        _wall.Stop();
        Interlocked.CompareExchange(ref s_active, null, this);
    }
}
