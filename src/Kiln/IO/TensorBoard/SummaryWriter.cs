using System.Globalization;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// Writes TensorBoard event files, as PyTorch's <c>torch.utils.tensorboard.SummaryWriter</c>:
/// <c>using var writer = new SummaryWriter("runs/exp1"); writer.AddScalar("loss", 0.5, step: 1);</c>,
/// then <c>tensorboard --logdir runs</c>. Each writer creates one file
/// <c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;counter&gt;</c> in
/// <see cref="LogDir"/> (created when missing), which starts with the file_version event.
/// <para>
/// The Add methods encode the value at once and queue it; a background thread writes the queue and
/// flushes the file every <c>flushSeconds</c> (120 by default, like TensorBoard), on
/// <see cref="Flush"/> and on <see cref="Dispose"/>, which writes everything queued before it
/// closes the file (a writer never disposed is closed the same way when the process exits). A write that fails in the background is thrown by the next call (or by
/// Dispose) as an <see cref="IOException"/> naming the file. The methods may be called from
/// several threads.
/// </para>
/// <para>
/// Scalars, histograms and images are written in the forms PyTorch writes (simple_value,
/// HistogramProto, PNG image), text for TensorBoard's text plugin, and the model structure as a
/// GraphDef for the Graphs tab. A step and a wall time (seconds since 1970, default now) go with
/// each value.
/// </para>
/// </summary>
public sealed class SummaryWriter : IDisposable
{
    private static int s_fileCounter = -1;

    private readonly object _gate = new();
    private readonly EventFileWriter _file;
    private readonly Dictionary<string, EventFileWriter> _scalarsWriters = new(StringComparer.Ordinal);
    private readonly double _flushSeconds;
    private readonly string _filenameSuffix;
    private readonly Func<string, Stream> _openFile;
    private bool _disposed;

    /// <summary>
    /// Starts a new event file in <paramref name="logDir"/> (one directory is one run in
    /// TensorBoard). <paramref name="flushSeconds"/> is how often queued events reach the file;
    /// <paramref name="filenameSuffix"/> is appended to the file name.
    /// </summary>
    public SummaryWriter(string logDir, double flushSeconds = 120, string filenameSuffix = "")
        : this(logDir, flushSeconds, filenameSuffix, OpenEventFile)
    {
    }

    /// <summary>A writer whose event files are opened by <paramref name="openFile"/> (tests inject failing streams here).</summary>
    internal SummaryWriter(string logDir, double flushSeconds, string filenameSuffix, Func<string, Stream> openFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDir);
        ArgumentNullException.ThrowIfNull(filenameSuffix);
        if (filenameSuffix.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new ArgumentException($"the file name suffix \"{filenameSuffix}\" must not contain a path separator", nameof(filenameSuffix));
        if (!(flushSeconds > 0) || double.IsInfinity(flushSeconds))
            throw new ArgumentOutOfRangeException(nameof(flushSeconds), flushSeconds, "the flush interval must be a positive number of seconds");
        _flushSeconds = flushSeconds;
        _filenameSuffix = filenameSuffix;
        _openFile = openFile;
        LogDir = Path.GetFullPath(logDir);
        _file = CreateEventFile(LogDir);
    }

    /// <summary>The directory of this writer's event file (the run), as a full path.</summary>
    public string LogDir { get; }

    /// <summary>The event file this writer appends to.</summary>
    public string FilePath => _file.Path;

    /// <summary>
    /// Logs a scalar (Scalars tab) under <paramref name="tag"/> at <paramref name="step"/>. The value
    /// is stored as a float32, as TensorBoard stores scalars; NaN and infinities are allowed (TensorBoard shows them).
    /// </summary>
    public void AddScalar(string tag, double value, long step = 0, double? wallTime = null)
    {
        CheckTag(tag);
        Write(_file, EventEncoder.SummaryEvent(WallTime(wallTime), step, EventEncoder.ScalarValue(tag, (float)value)));
    }

    /// <summary>
    /// Logs several scalars on one chart, as PyTorch's <c>add_scalars</c>: each key's values go to
    /// its own run, a subdirectory <c>&lt;mainTag&gt;_&lt;key&gt;</c> of <see cref="LogDir"/> (slashes
    /// in <paramref name="mainTag"/> become underscores), under the tag <paramref name="mainTag"/>.
    /// </summary>
    public void AddScalars(string mainTag, IReadOnlyDictionary<string, double> values, long step = 0, double? wallTime = null)
    {
        CheckTag(mainTag);
        ArgumentNullException.ThrowIfNull(values);
        foreach (var key in values.Keys)
            if (string.IsNullOrWhiteSpace(key) || key.IndexOfAny(['/', '\\', '\0']) >= 0 || key is "." or "..")
                throw new ArgumentException($"AddScalars(\"{mainTag}\"): key \"{key}\" cannot name a run directory (empty, a path separator, or a dot name)", nameof(values));
        double time = WallTime(wallTime);
        foreach (var (key, value) in values)
            Write(ScalarsWriter(mainTag, key), EventEncoder.SummaryEvent(time, step, EventEncoder.ScalarValue(mainTag, (float)value)));
    }

    /// <summary>
    /// Logs a histogram of the values of <paramref name="values"/> (any dtype; Histograms and
    /// Distributions tabs). With <paramref name="bins"/> null the buckets are TensorFlow's default
    /// exponential ones (relative width 10%, fine near zero), with a number that many equal-width
    /// bins between the smallest and the largest value. NaN or infinite values are refused.
    /// </summary>
    public void AddHistogram(string tag, Tensor values, long step = 0, int? bins = null, double? wallTime = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckTag(tag);
        AddHistogramCore(tag, ToDoubles(values), step, bins, wallTime);
    }

    /// <summary>Logs a histogram of <paramref name="values"/>; see <see cref="AddHistogram(string, Tensor, long, int?, double?)"/>.</summary>
    public void AddHistogram(string tag, ReadOnlySpan<float> values, long step = 0, int? bins = null, double? wallTime = null)
    {
        CheckTag(tag);
        var doubles = new double[values.Length];
        for (int i = 0; i < values.Length; i++) doubles[i] = values[i];
        AddHistogramCore(tag, doubles, step, bins, wallTime);
    }

    /// <summary>Logs a histogram of <paramref name="values"/>; see <see cref="AddHistogram(string, Tensor, long, int?, double?)"/>.</summary>
    public void AddHistogram(string tag, ReadOnlySpan<double> values, long step = 0, int? bins = null, double? wallTime = null)
    {
        CheckTag(tag);
        AddHistogramCore(tag, values, step, bins, wallTime);
    }

    private void AddHistogramCore(string tag, ReadOnlySpan<double> values, long step, int? bins, double? wallTime)
    {
        var histogram = HistogramSummary.Create(values, bins, $"AddHistogram(\"{tag}\")");
        Write(_file, EventEncoder.SummaryEvent(WallTime(wallTime), step, EventEncoder.HistogramValue(tag, histogram)));
    }

    /// <summary>
    /// Logs an image (Images tab), encoded as PNG. <paramref name="image"/> is float32/float64 with
    /// values in [0, 1] (scaled by 255 and rounded; values outside are clamped, NaN is 0) or uint8 in
    /// [0, 255]. <paramref name="dataFormats"/> gives its layout: "CHW" (the default, as PyTorch),
    /// "HWC" or "HW"; C is 1 (gray), 3 (RGB) or 4 (RGBA).
    /// </summary>
    public void AddImage(string tag, Tensor image, long step = 0, string dataFormats = "CHW", double? wallTime = null)
    {
        CheckTag(tag);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(dataFormats);
        var (height, width, channels, pixels) = ImagePixels(tag, image, dataFormats);
        var png = PngEncoder.Encode(pixels, width, height, channels);
        int colorspace = channels; // Summary.Image: 1 gray, 3 RGB, 4 RGBA
        Write(_file, EventEncoder.SummaryEvent(WallTime(wallTime), step, EventEncoder.ImageValue(tag, height, width, colorspace, png)));
    }

    /// <summary>Logs text (Text tab), which TensorBoard renders as Markdown.</summary>
    public void AddText(string tag, string text, long step = 0, double? wallTime = null)
    {
        CheckTag(tag);
        ArgumentNullException.ThrowIfNull(text);
        Write(_file, EventEncoder.SummaryEvent(WallTime(wallTime), step, EventEncoder.TextValue(tag, text)));
    }

    /// <summary>
    /// Logs the structure of <paramref name="model"/> (Graphs tab) by running it once on
    /// <paramref name="sampleInput"/> in evaluation mode without gradients (training modes are
    /// restored after): one node per leaf module called, named by its module path
    /// (<c>model/features/0</c>, so containers show as groups), with its type as the op, its
    /// settings, parameter count and output shape, wired by the tensors passed between modules.
    /// Operations written in a container's own Forward (reshapes, residual additions) do not show;
    /// a module fed by one is wired to the module called before it.
    /// </summary>
    public void AddGraph(Module model, Tensor sampleInput)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleInput);
        ThrowIfDisposed();
        byte[] graph;
        using (var recorder = ModuleGraphRecorder.Attach(model))
        {
            using (var scope = Engine.Scope()) model.RunInEvaluation(() => model.Call(sampleInput));
            graph = recorder.ToGraphDef();
        }
        Write(_file, EventEncoder.GraphEvent(WallTime(null), 0, graph));
    }

    /// <summary>Writes the serialized GraphDef a recorder produced (the TensorBoard callback records it during the first training batch).</summary>
    internal void WriteGraph(byte[] graphDef) => Write(_file, EventEncoder.GraphEvent(WallTime(null), 0, graphDef));

    /// <summary>Waits until everything logged so far is in the event files (handed to the operating system).</summary>
    public void Flush()
    {
        foreach (var writer in Writers()) writer.Flush();
    }

    /// <summary>Writes everything logged, closes the event files; throws a background write failure that no call reported yet.</summary>
    public void Dispose()
    {
        List<EventFileWriter> writers;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            writers = [_file, .. _scalarsWriters.Values];
        }
        Exception? first = null;
        foreach (var writer in writers)
        {
            try { writer.Dispose(); }
            catch (IOException e) { first ??= e; }
        }
        if (first is not null) throw first;
    }

    private List<EventFileWriter> Writers()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return [_file, .. _scalarsWriters.Values];
        }
    }

    private void Write(EventFileWriter writer, byte[] eventBytes)
    {
        ThrowIfDisposed();
        writer.Write(eventBytes);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private EventFileWriter ScalarsWriter(string mainTag, string key)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var directory = Path.Combine(LogDir, mainTag.Replace('/', '_') + "_" + key);
            if (!_scalarsWriters.TryGetValue(directory, out var writer))
            {
                writer = CreateEventFile(directory);
                _scalarsWriters.Add(directory, writer);
            }
            return writer;
        }
    }

    private EventFileWriter CreateEventFile(string directory)
    {
        Directory.CreateDirectory(directory);
        double now = WallTime(null);
        int counter = Interlocked.Increment(ref s_fileCounter);
        var name = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{(long)now:D10}.{HostName()}.{Environment.ProcessId}.{counter}{_filenameSuffix}");
        var path = Path.Combine(directory, name);
        var stream = _openFile(path);
        try
        {
            return new EventFileWriter(path, stream, EventEncoder.FileVersionEvent(now), _flushSeconds);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    // CreateNew: two writers never share a file, even within one second in one process.
    private static Stream OpenEventFile(string path)
        => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 1 << 16);

    private static string HostName()
    {
        string host;
        try { host = System.Net.Dns.GetHostName(); }
        catch (System.Net.Sockets.SocketException) { host = Environment.MachineName; }
        var chars = host.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (Array.IndexOf(Path.GetInvalidFileNameChars(), chars[i]) >= 0 || chars[i] == '\\') chars[i] = '_';
        return chars.Length == 0 ? "localhost" : new string(chars);
    }

    private static double WallTime(double? wallTime)
    {
        if (wallTime is double t)
        {
            if (!double.IsFinite(t)) throw new ArgumentOutOfRangeException(nameof(wallTime), t, "the wall time must be a finite number of seconds since 1970");
            return t;
        }
        return (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
    }

    private static void CheckTag(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (string.IsNullOrWhiteSpace(tag)) throw new ArgumentException("the tag must not be empty", nameof(tag));
    }

    /// <summary>The values of <paramref name="values"/> (any dtype) as doubles, in row-major order.</summary>
    internal static double[] ToDoubles(Tensor values)
    {
        using var noGrad = Engine.NoGrad();
        var converted = values.To(DType.Float64);
        try { return converted.ToArray<double>(); }
        finally
        {
            if (!ReferenceEquals(converted, values)) converted.Dispose();
        }
    }

    private static (int Height, int Width, int Channels, byte[] Pixels) ImagePixels(string tag, Tensor image, string dataFormats)
    {
        var shape = image.Shape;
        string where = $"AddImage(\"{tag}\")";
        if (dataFormats is not ("CHW" or "HWC" or "HW"))
            throw new ArgumentException($"{where}: dataFormats \"{dataFormats}\" is not one of \"CHW\", \"HWC\", \"HW\"", nameof(dataFormats));
        if (image.DType is not (DType.Float32 or DType.Float64 or DType.UInt8))
            throw new ArgumentException($"{where}: image dtype {image.DType.Name()} is not supported; give float32/float64 in [0, 1] or uint8", nameof(image));
        if (shape.Rank != dataFormats.Length)
            throw new KilnShapeException($"{where}: image shape {shape} has rank {shape.Rank}, but dataFormats \"{dataFormats}\" needs rank {dataFormats.Length}");
        int c = dataFormats switch { "CHW" => shape[0], "HWC" => shape[2], _ => 1 };
        int h = dataFormats == "CHW" ? shape[1] : shape[0];
        int w = dataFormats == "CHW" ? shape[2] : shape[1];
        if (c is not (1 or 3 or 4))
            throw new KilnShapeException($"{where}: image shape {shape} ({dataFormats}) has {c} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
        if (h < 1 || w < 1)
            throw new KilnShapeException($"{where}: image shape {shape} ({dataFormats}) is empty");

        // PNG wants rows of interleaved channels (HWC); CHW planes are interleaved here.
        var pixels = new byte[h * w * c];
        bool planar = dataFormats == "CHW";
        if (image.DType == DType.UInt8)
        {
            var data = image.ToArray<byte>();
            for (int i = 0; i < pixels.Length; i++) pixels[i] = data[SourceIndex(i, h, w, c, planar)];
        }
        else
        {
            var data = ToDoubles(image);
            for (int i = 0; i < pixels.Length; i++)
            {
                double v = data[SourceIndex(i, h, w, c, planar)];
                pixels[i] = double.IsNaN(v) ? (byte)0 : (byte)Math.Round(Math.Clamp(v, 0, 1) * 255);
            }
        }
        return (h, w, c, pixels);
    }

    // Index into the source of interleaved pixel byte i (pixel i / c, channel i % c).
    private static int SourceIndex(int i, int h, int w, int c, bool planar)
        => planar ? (i % c) * h * w + i / c : i;
}
