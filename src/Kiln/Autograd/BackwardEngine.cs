using System.Runtime.InteropServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Autograd;

/// <summary>
/// Walks the autograd graph from the outputs back to the leaves. The walk is iterative (a chain of
/// 100,000 ops is fine) and visits ready nodes newest first, so gradients are summed in the same
/// order on every run.
/// </summary>
internal static class BackwardEngine
{
    internal static void Backward(Tensor output, Tensor? gradient, bool retainGraph, bool createGraph)
    {
        var seed = Seed(output, gradient, "Backward()");
        Run([output], [seed], retainGraph, createGraph, captures: null);
    }

    internal static Tensor?[] Grad(ReadOnlySpan<Tensor> outputs, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<Tensor?> gradOutputs,
        bool retainGraph, bool createGraph, bool allowUnused)
    {
        if (!gradOutputs.IsEmpty && gradOutputs.Length != outputs.Length)
            throw new KilnAutogradException($"Grad: {outputs.Length} outputs but {gradOutputs.Length} output gradients");
        var seeds = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            seeds[i] = Seed(outputs[i], gradOutputs.IsEmpty ? null : gradOutputs[i], "Grad()");
        foreach (var x in inputs)
            if (!x.RequiresGrad) throw new KilnAutogradException($"Grad: an input ({x.Shape} {x.DType.Name()}) does not require grad");

        var captures = new Dictionary<object, Tensor?>(ReferenceEqualityComparer.Instance);
        foreach (var x in inputs) captures[Key(x)] = null;
        Run(outputs.ToArray(), seeds, retainGraph, createGraph, captures);

        var result = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            result[i] = captures[Key(inputs[i])];
            if (result[i] is null && !allowUnused)
                throw new KilnAutogradException($"Grad: input {i} ({inputs[i].Shape}) was not used to compute the outputs; pass allowUnused: true to get null for it");
        }
        return result;
    }

    // A non-leaf input is identified by the node that made it; a leaf by itself.
    private static object Key(Tensor t) => (object?)t.GradFn ?? t;

    private static Tensor Seed(Tensor output, Tensor? gradient, string caller)
    {
        if (!output.RequiresGrad)
            throw new KilnAutogradException($"{caller}: the tensor ({output.Shape} {output.DType.Name()}) does not require grad and has no grad function");
        if (gradient is null)
        {
            if (output.NumElements != 1)
                throw new KilnAutogradException($"{caller}: a gradient can be created implicitly only for scalar outputs, but the output has shape {output.Shape}; pass a gradient of that shape");
            using (Engine.NoGrad()) return Tensor.OnesLike(output);
        }
        if (gradient.Shape != output.Shape)
            throw new KilnAutogradException($"{caller}: gradient shape {gradient.Shape} does not match output shape {output.Shape}");
        if (gradient.DType != output.DType)
            throw new KilnAutogradException($"{caller}: gradient dtype {gradient.DType.Name()} does not match output dtype {output.DType.Name()} (shape {output.Shape})");
        return gradient;
    }

    private static void Run(Tensor[] outputs, Tensor[] seeds, bool retainGraph, bool createGraph, Dictionary<object, Tensor?>? captures)
    {
        using var mode = createGraph ? Engine.EnableGrad() : Engine.NoGrad();

        // Gradients reaching a leaf are summed here and delivered once at the end, so the leaf's hooks
        // see its whole gradient, as they do for non-leaves.
        var leafGrads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        var leafOrder = new List<Tensor>();
        void ToLeaf(Tensor leaf, Tensor g)
        {
            if (leafGrads.TryGetValue(leaf, out var acc)) leafGrads[leaf] = acc + g;
            else
            {
                leafGrads[leaf] = g;
                leafOrder.Add(leaf);
            }
        }

        var pending = new Dictionary<GradNode, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < outputs.Length; i++)
        {
            var node = outputs[i].GradFn;
            if (node is null) ToLeaf(outputs[i], seeds[i]);
            else pending[node] = pending.TryGetValue(node, out var g) ? g + seeds[i] : seeds[i];
        }

        // Count, for each reachable node, how many edges from reachable nodes lead into it.
        var dependencies = new Dictionary<GradNode, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradNode>();
        foreach (var node in pending.Keys)
        {
            if (dependencies.TryAdd(node, 0)) stack.Push(node);
        }
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            int inputCount = node.Inputs.Length;
            for (int i = 0; i < inputCount; i++)
            {
                var next = node.NextNodes[i];
                if (next is null || !node.NeedsInputGrad[i]) continue;
                if (dependencies.TryGetValue(next, out var count)) dependencies[next] = count + 1;
                else
                {
                    dependencies[next] = 1;
                    stack.Push(next);
                }
            }
        }

        var ready = new PriorityQueue<GradNode, long>();
        foreach (var node in pending.Keys)
            if (dependencies[node] == 0) ready.Enqueue(node, -node.Sequence);

        while (ready.TryDequeue(out var node, out _))
        {
            var inputs = node.Inputs.ToArray();
            // A node can become ready without a gradient when every backward function feeding it returned
            // null; it still releases its inputs' dependency counts so the nodes below it run.
            Tensor?[]? inputGrads = null;
            if (pending.Remove(node, out var grad))
            {
                if (node.Hooks is not null)
                    foreach (var hook in node.Hooks.ToArray()) grad = hook(grad) ?? grad;
                // Grad() leaves every .Grad alone, including those of non-leaves that asked to retain theirs.
                if (captures is null && node.RetainedOutput is { } retained)
                    retained.Grad = Accumulate(retained.Grad, grad, createGraph);
                if (captures is not null && captures.ContainsKey(node)) captures[node] = grad;

                inputGrads = Apply(node, grad);
                if (inputGrads.Length != inputs.Length)
                    throw new InvalidOperationException($"{node.Name} returned {inputGrads.Length} gradients for {inputs.Length} inputs");
            }
            if (!retainGraph) node.ReleaseSaved();

            for (int i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                if (!node.NeedsInputGrad[i]) continue;
                var next = node.NextNodes[i];
                if (inputGrads?[i] is { } g)
                {
                    if (g.Shape != input.Shape || g.DType != input.DType)
                        throw new InvalidOperationException(
                            $"{node.Name} returned a gradient of {g.Shape} {g.DType.Name()} for input {i} of {input.Shape} {input.DType.Name()}");
                    if (GradMode.AnomalyDetection && g.DType.IsFloatingPoint() && !FiniteCheck.AllFinite(g))
                        throw new KilnAutogradException($"anomaly: {node.Name} returned NaN or infinity in its gradient for input {i} ({input.Shape} {input.DType.Name()})");
                    if (next is null) ToLeaf(input, g);
                    else pending[next] = pending.TryGetValue(next, out var acc) ? acc + g : g;
                }
                if (next is not null && --CollectionsMarshal.GetValueRefOrNullRef(dependencies, next) == 0)
                    ready.Enqueue(next, -next.Sequence);
            }
        }

        foreach (var leaf in leafOrder) DeliverToLeaf(leaf, leafGrads[leaf], createGraph, captures);
    }

    private static Tensor?[] Apply(GradNode node, Tensor grad)
    {
        if (!GradMode.AnomalyDetection) return node.Apply(grad);
        // In anomaly mode the backward function's results are checked as a whole (above), so the error
        // names it ("ExpBackward") rather than an op its formula happens to call.
        GradMode.AnomalyDetection = false;
        try { return node.Apply(grad); }
        finally { GradMode.AnomalyDetection = true; }
    }

    private static void DeliverToLeaf(Tensor leaf, Tensor grad, bool createGraph, Dictionary<object, Tensor?>? captures)
    {
        if (leaf.LeafHooks is not null)
            foreach (var hook in leaf.LeafHooks.ToArray()) grad = hook(grad) ?? grad;
        if (captures is not null)
        {
            if (captures.ContainsKey(leaf)) captures[leaf] = grad;
            return;
        }
        leaf.Grad = Accumulate(leaf.Grad, grad, createGraph);
    }

    /// <summary>
    /// Adds a gradient into a kept .Grad (a leaf's, or a non-leaf's after RetainGrad). The result belongs
    /// to the tensor, not to the scope the backward pass ran in; without createGraph it is a private
    /// contiguous copy, accumulated in place afterwards.
    /// </summary>
    private static Tensor Accumulate(Tensor? existing, Tensor grad, bool createGraph)
    {
        if (createGraph) return (existing is null ? grad : existing + grad).DetachFromScope();
        using (Engine.NoGrad())
        {
            if (existing is null) return grad.Clone().DetachFromScope();
            return existing.AddInPlace(grad);
        }
    }
}
