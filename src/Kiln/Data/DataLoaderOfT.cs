using System.Collections;
using System.Runtime.ExceptionServices;

namespace Kiln.Data;

/// <summary>
/// Iterates over a <see cref="Dataset{T}"/> in batches (PyTorch's <c>DataLoader</c>): optionally shuffled
/// with a seed, the last short batch kept or dropped, items combined by a collate function, and batches
/// prepared ahead by worker threads. <see cref="DataLoader"/> is the common case of
/// <see cref="Example"/> items and batches.
/// </summary>
/// <remarks>
/// <para>Each enumeration is one epoch. The order is a permutation drawn from (seed, epoch); without a
/// seed, each epoch draws its seed from Kiln's random stream, so <see cref="Engine.ManualSeed"/> makes
/// runs repeat. Batches come in the same order and with the same contents whatever
/// <see cref="NumWorkers"/> is, random transforms included.</para>
/// <para>Memory: the loader owns the batches it yields. A batch is disposed when the enumeration moves
/// on to the next one or ends, so a training loop never leaves batches to the finalizer; clone a tensor
/// (<see cref="Tensor.Clone"/>) to keep it longer. An enumeration abandoned early (a <c>break</c>,
/// LINQ's <c>First()</c>) hands its current batch to the calling thread's current
/// <see cref="Engine.Scope"/>, which disposes it when it ends, or disposes it at once outside any scope:
/// <c>using (Engine.Scope()) { var (x, y) = loader.First(); ... }</c> keeps the first batch usable. Batch tensors
/// the loader finds are tensors, <see cref="Example"/>s, tuples, and arrays, lists, dictionaries or other
/// <c>IEnumerable</c>s of them; a custom batch type exposes its tensors by implementing
/// <c>IEnumerable&lt;Tensor&gt;</c>. A collate function must return new tensors (the loader disposes them).
/// Tensors created while fetching and collating items are disposed once the batch is made.</para>
/// <para>Batches are prepared with gradient recording off. An exception from the dataset or the collate
/// function, on a worker or not, surfaces from the enumeration as a <see cref="KilnException"/> naming the
/// dataset index (or the batch) with the original as its inner exception. Disposing the enumerator
/// (<c>foreach</c> does) stops and joins the workers.</para>
/// </remarks>
public class DataLoader<TItem, TBatch> : IReadOnlyCollection<TBatch>
{
    private readonly Func<IReadOnlyList<TItem>, TBatch> _collate;
    private int _epoch;
    private int _runningWorkers;

    /// <summary>
    /// A loader of batches of <paramref name="batchSize"/> items combined by <paramref name="collate"/>.
    /// </summary>
    /// <param name="dataset">The items.</param>
    /// <param name="batchSize">Items per batch (the last may be smaller unless <paramref name="dropLast"/>).</param>
    /// <param name="collate">Combines a batch's items into one batch value.</param>
    /// <param name="shuffle">Visit the items in a new random order each epoch.</param>
    /// <param name="seed">Seed of the shuffle and of random transforms; null draws one per epoch from Kiln's random stream.</param>
    /// <param name="dropLast">Drop the last batch when it has fewer than <paramref name="batchSize"/> items.</param>
    /// <param name="numWorkers">Threads that prepare batches ahead; 0 prepares each batch on the consuming thread when asked.</param>
    /// <param name="prefetchFactor">Batches prepared ahead per worker (at most <paramref name="numWorkers"/> x this are waiting or in progress).</param>
    public DataLoader(Dataset<TItem> dataset, int batchSize, Func<IReadOnlyList<TItem>, TBatch> collate,
        bool shuffle = false, ulong? seed = null, bool dropLast = false, int numWorkers = 0, int prefetchFactor = 2)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: batchSize must be at least 1");
        if (numWorkers < 0 || numWorkers > 1024)
            throw new ArgumentOutOfRangeException(nameof(numWorkers), numWorkers, "DataLoader: numWorkers must be in [0, 1024]");
        if (prefetchFactor < 1) throw new ArgumentOutOfRangeException(nameof(prefetchFactor), prefetchFactor, "DataLoader: prefetchFactor must be at least 1");
        Dataset = dataset;
        BatchSize = batchSize;
        _collate = collate;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        NumWorkers = numWorkers;
        PrefetchFactor = prefetchFactor;
    }

    /// <summary>The dataset the batches are drawn from.</summary>
    public Dataset<TItem> Dataset { get; }

    /// <summary>Items per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the items in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed given, or null when each epoch draws one from Kiln's random stream.</summary>
    public ulong? Seed { get; }

    /// <summary>Whether a last, short batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Worker threads preparing batches ahead (0: none).</summary>
    public int NumWorkers { get; }

    /// <summary>Batches prepared ahead per worker.</summary>
    public int PrefetchFactor { get; }

    /// <summary>
    /// The epoch the next enumeration will be (0 at first, then 1, 2, ...). With a seed, the shuffle
    /// order and random transforms depend on it; set it to resume a run at a given epoch.
    /// </summary>
    public int Epoch
    {
        get => Volatile.Read(ref _epoch);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _epoch, value);
        }
    }

    /// <summary>The number of batches an epoch yields.</summary>
    public int Count => BatchCount(Dataset.Count);

    /// <summary>Worker threads of this loader's enumerations still running (for tests).</summary>
    internal int RunningWorkers => Volatile.Read(ref _runningWorkers);

    /// <summary>Starts an epoch.</summary>
    public IEnumerator<TBatch> GetEnumerator()
    {
        int epoch = Interlocked.Increment(ref _epoch) - 1;
        return new Enumerator(this, new Plan(this, Seed ?? ItemRandom.DrawSeed(), epoch));
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int BatchCount(int items) => DropLast ? items / BatchSize : (int)(((long)items + BatchSize - 1) / BatchSize);

    /// <summary>
    /// Makes the batch of <paramref name="indices"/>: fetches each item with its random stream entered,
    /// then collates. <paramref name="stop"/> (null on the consuming thread) is checked between items.
    /// </summary>
    private protected virtual TBatch Build(int[] indices, ulong seed, int epoch, int batch, StopSignal? stop)
    {
        var items = new TItem[indices.Length];
        for (int j = 0; j < indices.Length; j++)
        {
            if (stop is { Stopped: true }) throw new OperationCanceledException();
            int index = indices[j];
            try
            {
                using (ItemRandom.Enter(new ItemRandom(seed, (uint)index, (uint)epoch)))
                    items[j] = Dataset[index];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new KilnException($"DataLoader: fetching dataset index {index} (batch {batch}) failed: {e.GetType().Name}: {e.Message}", e);
            }
        }
        try
        {
            return _collate(items);
        }
        catch (Exception e)
        {
            throw new KilnException($"DataLoader: collating batch {batch} (dataset indices {Describe(indices)}) failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private static string Describe(int[] indices) =>
        indices.Length <= 8 ? string.Join(", ", indices) : string.Join(", ", indices[..8]) + $", ... ({indices.Length} in all)";

    /// <summary>Makes batch <paramref name="batch"/> of <paramref name="plan"/> in a scope of its own; the loader owns the result.</summary>
    private TBatch Prepare(Plan plan, int batch, StopSignal? stop)
    {
        using var noGrad = Engine.NoGrad();
        var scope = Engine.Scope();
        try
        {
            var result = Build(plan.Indices(batch), plan.Seed, plan.Epoch, batch, stop);
            BatchTensors.Detach(result);
            return result;
        }
        finally
        {
            scope.Dispose();
        }
    }

    /// <summary>One epoch: its seed, its order of the items, and how it splits into batches.</summary>
    private sealed class Plan
    {
        private readonly int[]? _order;
        private readonly int _items;
        private readonly int _batchSize;

        internal Plan(DataLoader<TItem, TBatch> loader, ulong seed, int epoch)
        {
            Seed = seed;
            Epoch = epoch;
            _items = loader.Dataset.Count;
            _batchSize = loader.BatchSize;
            BatchCount = loader.BatchCount(_items);
            if (loader.Shuffle) _order = new ItemRandom(seed, ItemRandom.ShuffleStream, (uint)epoch).Permutation(_items);
        }

        internal ulong Seed { get; }
        internal int Epoch { get; }
        internal int BatchCount { get; }

        internal int[] Indices(int batch)
        {
            int start = batch * _batchSize;
            int length = Math.Min(_batchSize, _items - start);
            var indices = new int[length];
            if (_order is null)
                for (int j = 0; j < length; j++) indices[j] = start + j;
            else
                Array.Copy(_order, start, indices, 0, length);
            return indices;
        }
    }

    /// <summary>Tells workers to stop; read between items.</summary>
    private protected sealed class StopSignal
    {
        private volatile bool _stopped;
        internal bool Stopped => _stopped;
        internal void Stop() => _stopped = true;
    }

    /// <summary>A batch made by a worker, or the exception that prevented it.</summary>
    private readonly record struct Outcome(TBatch Batch, ExceptionDispatchInfo? Error);

    /// <summary>
    /// The worker threads of one enumeration. Workers claim batch numbers in order, at most
    /// <see cref="_capacity"/> ahead of the consumer, and park finished batches until the consumer takes
    /// them in order. Stopping wakes and joins them, and disposes batches nobody will take.
    /// </summary>
    private sealed class Workers : IDisposable
    {
        private readonly DataLoader<TItem, TBatch> _loader;
        private readonly Plan _plan;
        private readonly object _gate = new();
        private readonly Dictionary<int, Outcome> _ready = new();
        private readonly Thread[] _threads;
        private readonly StopSignal _stop = new();
        private readonly int _capacity;
        private int _next;
        private int _consumed;
        private bool _disposed;

        internal Workers(DataLoader<TItem, TBatch> loader, Plan plan)
        {
            _loader = loader;
            _plan = plan;
            _capacity = loader.NumWorkers * loader.PrefetchFactor;
            _threads = new Thread[Math.Min(loader.NumWorkers, Math.Max(plan.BatchCount, 1))];
            for (int i = 0; i < _threads.Length; i++)
            {
                _threads[i] = new Thread(Run) { IsBackground = true, Name = $"Kiln DataLoader worker {i}" };
                Interlocked.Increment(ref loader._runningWorkers);
                _threads[i].Start();
            }
        }

        private void Run()
        {
            try
            {
                while (true)
                {
                    int batch;
                    lock (_gate)
                    {
                        while (!_stop.Stopped && _next < _plan.BatchCount && _next - _consumed >= _capacity) Monitor.Wait(_gate);
                        if (_stop.Stopped || _next >= _plan.BatchCount) return;
                        batch = _next++;
                    }
                    Outcome outcome;
                    try
                    {
                        outcome = new(_loader.Prepare(_plan, batch, _stop), null);
                    }
                    catch (OperationCanceledException) when (_stop.Stopped)
                    {
                        return;
                    }
                    catch (Exception e)
                    {
                        outcome = new(default!, ExceptionDispatchInfo.Capture(e));
                    }
                    bool kept;
                    lock (_gate)
                    {
                        kept = !_stop.Stopped;
                        if (kept)
                        {
                            _ready.Add(batch, outcome);
                            Monitor.PulseAll(_gate);
                        }
                    }
                    if (!kept)
                    {
                        if (outcome.Error is null) BatchTensors.Dispose(outcome.Batch);
                        return;
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref _loader._runningWorkers);
            }
        }

        /// <summary>Waits for batch <paramref name="batch"/> (the next in order) and takes it; rethrows its worker's exception.</summary>
        internal TBatch Take(int batch)
        {
            Outcome outcome;
            lock (_gate)
            {
                while (!_ready.Remove(batch, out outcome)) Monitor.Wait(_gate);
                _consumed++;
                Monitor.PulseAll(_gate);
            }
            outcome.Error?.Throw();
            return outcome.Batch;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Stop();
            foreach (var thread in _threads) thread.Join();
            DisposeReady();
        }

        /// <summary>
        /// Stops the workers without waiting for them (from a finalizer): each finishes at most the item it
        /// is on, disposes what it made and exits.
        /// </summary>
        internal void Abandon()
        {
            Stop();
            DisposeReady();
        }

        private void Stop()
        {
            lock (_gate)
            {
                _stop.Stop();
                Monitor.PulseAll(_gate);
            }
        }

        private void DisposeReady()
        {
            List<Outcome> ready;
            lock (_gate)
            {
                ready = _ready.Values.ToList();
                _ready.Clear();
            }
            foreach (var outcome in ready)
                if (outcome.Error is null) BatchTensors.Dispose(outcome.Batch);
        }
    }

    private sealed class Enumerator(DataLoader<TItem, TBatch> loader, Plan plan) : IEnumerator<TBatch>
    {
        private Workers? _workers;
        private int _next;
        private TBatch _current = default!;
        private bool _holds;
        private bool _disposed;

        public TBatch Current => _holds ? _current : throw new InvalidOperationException("DataLoader: no current batch (call MoveNext first, or the enumeration ended)");

        object? IEnumerator.Current => Current;

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Release();
            if (_next >= plan.BatchCount)
            {
                _workers?.Dispose();
                return false;
            }
            int batch = _next++;
            if (loader.NumWorkers == 0)
            {
                _current = loader.Prepare(plan, batch, null);
            }
            else
            {
                _workers ??= new Workers(loader, plan);
                _current = _workers.Take(batch);
            }
            _holds = true;
            return true;
        }

        private void Release()
        {
            if (!_holds) return;
            _holds = false;
            var batch = _current;
            _current = default!;
            BatchTensors.Dispose(batch);
        }

        public void Reset() => throw new NotSupportedException("DataLoader: start a new enumeration (a new epoch) instead of Reset");

        /// <summary>An enumerator dropped without Dispose still stops its workers once collected (they hold no reference to it).</summary>
        ~Enumerator()
        {
            if (!_disposed) _workers?.Abandon();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            GC.SuppressFinalize(this);
            _workers?.Dispose();
            if (_holds)
            {
                _holds = false;
                BatchTensors.HandOver(_current);
                _current = default!;
            }
        }
    }
}
