using System.Diagnostics;

namespace Kiln.IO;

/// <summary>
/// One TensorBoard event file and the background thread that writes it, as TensorBoard's
/// <c>EventFileWriter</c>: callers queue encoded events, the thread frames them as TFRecords and
/// writes them, and the file is flushed every <c>flushSeconds</c>, on <see cref="Flush"/> and on
/// <see cref="Dispose"/> (which also runs at process exit for a writer never disposed). The first record (the file_version event) is written and flushed before
/// the constructor returns, so TensorBoard sees a valid run at once.
/// <para>
/// An event file is an append-only log that TensorBoard reads while it grows, so it is not written
/// through <see cref="AtomicFile"/>; the CRCs of each record let readers drop a torn last record.
/// </para>
/// <para>
/// When writing fails on the background thread the error is kept and thrown (as an
/// <see cref="IOException"/> naming the file) by the next <see cref="Write"/> or <see cref="Flush"/>,
/// or by <see cref="Dispose"/> when no call has reported it yet. The queue is bounded: a caller
/// that outruns the disk waits for room instead of growing memory without limit.
/// </para>
/// </summary>
internal sealed class EventFileWriter : IDisposable
{
    private const int MaxPending = 1024;

    private readonly object _gate = new();
    private readonly Queue<byte[]> _pending = new();
    private readonly Stream _stream;
    private readonly TfRecordWriter _records;
    private readonly Thread _thread;
    private readonly TimeSpan _flushInterval;
    private long _enqueued;
    private long _flushed;
    private bool _flushRequested;
    private bool _closing;
    private bool _disposed;
    private Exception? _failure;
    private bool _failureReported;

    /// <summary>Writes <paramref name="firstRecord"/> to <paramref name="stream"/>, flushes it, and starts the background writer.</summary>
    public EventFileWriter(string path, Stream stream, ReadOnlySpan<byte> firstRecord, double flushSeconds)
    {
        if (!(flushSeconds > 0) || double.IsInfinity(flushSeconds))
            throw new ArgumentOutOfRangeException(nameof(flushSeconds), flushSeconds, "the flush interval must be a positive number of seconds");
        Path = path;
        _stream = stream;
        _records = new TfRecordWriter(stream);
        _flushInterval = TimeSpan.FromSeconds(Math.Min(flushSeconds, int.MaxValue / 1000.0));
        _records.Write(firstRecord);
        _stream.Flush();
        _thread = new Thread(Run) { IsBackground = true, Name = $"Kiln TensorBoard writer ({System.IO.Path.GetFileName(path)})" };
        _thread.Start();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The event file's path.</summary>
    public string Path { get; }

    /// <summary>Queues one encoded event (an Event message) to be written.</summary>
    public void Write(byte[] eventBytes)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            while (_pending.Count >= MaxPending && _failure is null) Monitor.Wait(_gate);
            ThrowIfFailed();
            _pending.Enqueue(eventBytes);
            _enqueued++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until every event queued so far is written and flushed to the operating system.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            long target = _enqueued;
            _flushRequested = true;
            Monitor.PulseAll(_gate);
            while (_flushed < target && _failure is null) Monitor.Wait(_gate);
            ThrowIfFailed();
        }
    }

    /// <summary>Writes and flushes everything queued, stops the thread and closes the file; throws a background failure not reported yet.</summary>
    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        Exception? closeFailure = null;
        try { _stream.Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { closeFailure = e; }
        lock (_gate)
        {
            if (_failure is null && closeFailure is not null) _failure = closeFailure;
            if (_failure is not null && !_failureReported) ThrowFailure();
        }
    }

    // A script that never disposes its writer still gets every event it logged: the file is closed at exit.
    // No caller is left to throw to then, so a failure goes to standard error.
    private void OnProcessExit(object? sender, EventArgs e)
    {
        try { Dispose(); }
        catch (IOException failure) { Console.Error.WriteLine(failure.Message); }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null) ThrowFailure();
    }

    private void ThrowFailure()
    {
        _failureReported = true;
        throw new IOException($"TensorBoard event file '{Path}': writing failed ({_failure!.Message}); events queued since then are lost", _failure);
    }

    private void Run()
    {
        var batch = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        var nextFlush = _flushInterval;
        while (true)
        {
            bool flush, closing;
            long written;
            lock (_gate)
            {
                while (_pending.Count == 0 && !_flushRequested && !_closing)
                {
                    var wait = nextFlush - clock.Elapsed;
                    if (wait <= TimeSpan.Zero) break;
                    Monitor.Wait(_gate, wait);
                }
                while (_pending.Count > 0) batch.Add(_pending.Dequeue());
                written = _enqueued;
                closing = _closing;
                flush = _flushRequested || closing || clock.Elapsed >= nextFlush;
                _flushRequested = false;
                Monitor.PulseAll(_gate);
            }
            try
            {
                foreach (var record in batch) _records.Write(record);
                batch.Clear();
                if (flush)
                {
                    _stream.Flush();
                    nextFlush = clock.Elapsed + _flushInterval;
                }
            }
            catch (Exception e)
            {
                // Kept for the caller: the next call (or Dispose) throws it, nothing is swallowed.
                lock (_gate)
                {
                    _failure = e;
                    Monitor.PulseAll(_gate);
                }
                return;
            }
            if (flush)
            {
                lock (_gate)
                {
                    _flushed = written;
                    Monitor.PulseAll(_gate);
                }
            }
            if (closing) return;
        }
    }
}
