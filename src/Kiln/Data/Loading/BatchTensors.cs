using System.Collections;
using System.Runtime.CompilerServices;

namespace Kiln.Data;

/// <summary>
/// Finds the tensors of a batch so the loader can own them: a <see cref="Tensor"/>, an <see cref="Example"/>,
/// tuples, and sequences or dictionaries of these (arrays, lists, a custom type implementing
/// <c>IEnumerable&lt;Tensor&gt;</c>), nested up to a few levels.
/// </summary>
internal static class BatchTensors
{
    private const int MaxDepth = 8;

    /// <summary>Takes the batch's tensors out of every scope: the loader owns them from here on.</summary>
    internal static void Detach(object? batch) => Visit(batch, static t => t.DetachFromScope(), 0);

    /// <summary>Disposes the batch's tensors (and the batch, if it is itself disposable).</summary>
    internal static void Dispose(object? batch)
    {
        Visit(batch, static t => t.Dispose(), 0);
        if (batch is IDisposable disposable and not Tensor and not Example) disposable.Dispose();
    }

    /// <summary>
    /// Gives the batch's tensors to the calling thread's current scope, which disposes them when it ends;
    /// outside any scope, disposes them now (so nothing is left to the finalizer).
    /// </summary>
    internal static void HandOver(object? batch)
    {
        var scope = TensorScope.Current;
        if (scope is null) Dispose(batch);
        else Visit(batch, t => { if (!t.IsDisposed) scope.Adopt(t); }, 0);
    }

    private static void Visit(object? value, Action<Tensor> action, int depth)
    {
        if (depth > MaxDepth) return;
        switch (value)
        {
            case null or string:
                return;
            case Tensor t:
                action(t);
                return;
            case Example e:
                if (e.Input is not null) action(e.Input);
                if (e.Target is not null) action(e.Target);
                return;
            case ITuple tuple:
                for (int i = 0; i < tuple.Length; i++) Visit(tuple[i], action, depth + 1);
                return;
            case IDictionary dictionary:
                foreach (var item in dictionary.Values) Visit(item, action, depth + 1);
                return;
            case IEnumerable sequence:
                foreach (var item in sequence) Visit(item, action, depth + 1);
                return;
        }
    }
}
