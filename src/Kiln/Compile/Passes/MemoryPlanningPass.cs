using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Plans the memory of a graph's intermediate results ahead of running it. Each result of a non-view
/// node that is not returned gets a live range, from the node that writes it to the last node that
/// reads it or any view of it; results whose ranges do not overlap share arena bytes (largest first,
/// each at the lowest offset free for its whole range). An elementwise node writes its result over an
/// input's buffer (in place) when that input has the same shape and dtype, is read last by this node,
/// is not returned and was never viewed: the same rule the eager in-place ops follow, kept
/// conservative. Views take no memory; they keep their source alive. The pass reads the graph and
/// changes nothing.
/// </summary>
internal static class MemoryPlanningPass
{
    internal const int Alignment = MemoryPool.Alignment;

    private sealed class Buffer(long bytes, int start, int end)
    {
        internal long Bytes { get; } = bytes;
        internal int Start { get; } = start;
        internal int End { get; set; } = end;
        internal long Offset { get; set; }
    }

    internal static MemoryPlan Plan(Graph graph)
    {
        var nodes = graph.Nodes;
        int end = nodes.Count;
        var byIdentity = ReferenceEqualityComparer.Instance;

        // Views read their source's memory: their uses are the source's uses.
        var viewed = new HashSet<GraphValue>(byIdentity);
        var lastUse = new Dictionary<GraphValue, int>(byIdentity);
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.Op.IsView) viewed.Add(RootOf(node.Inputs[0]));
            foreach (var input in node.Inputs) lastUse[RootOf(input)] = i;
        }
        foreach (var output in graph.Outputs) lastUse[RootOf(output)] = end;

        var returned = new HashSet<GraphValue>(byIdentity);
        foreach (var output in graph.Outputs)
            if (output.Kind == ValueKind.Node && !output.IsView && !viewed.Contains(output)) returned.Add(output);

        var buffers = new List<Buffer>();
        var bufferOf = new Dictionary<GraphValue, Buffer>(byIdentity);
        var inPlace = new Dictionary<GraphValue, GraphValue>(byIdentity);
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var result = node.Output;
            if (node.Op.IsView || returned.Contains(result)) continue;
            int last = Math.Max(i, lastUse.GetValueOrDefault(result, i));
            Buffer? reuse = null;
            if (node.Op.Fusion == FusionKind.Elementwise)
                foreach (var input in node.Inputs)
                    if (bufferOf.TryGetValue(input, out var candidate) && candidate.End == i && lastUse[input] == i
                        && !viewed.Contains(input) && input.Spec == result.Spec)
                    {
                        reuse = candidate;
                        inPlace[result] = input;
                        break;
                    }
            if (reuse is not null)
            {
                reuse.End = last;
                bufferOf[result] = reuse;
                continue;
            }
            var buffer = new Buffer(BytesOf(result.Spec), i, last);
            buffers.Add(buffer);
            bufferOf[result] = buffer;
        }

        long arena = Place(buffers);
        var offsets = new Dictionary<GraphValue, long>(byIdentity);
        foreach (var (value, buffer) in bufferOf) offsets[value] = buffer.Offset;
        return new MemoryPlan(arena, offsets, returned, inPlace);
    }

    /// <summary>The value whose memory <paramref name="value"/> shows: itself, or the source of its chain of views.</summary>
    internal static GraphValue RootOf(GraphValue value)
    {
        while (value.Producer is { Op.IsView: true } view) value = view.Inputs[0];
        return value;
    }

    /// <summary>Bytes a result takes in the arena: at least one element, rounded up to the alignment.</summary>
    internal static long BytesOf(TensorSpec spec)
    {
        long bytes = Math.Max(spec.Shape.NumElements, 1) * spec.DType.ElementSize();
        return (bytes + Alignment - 1) / Alignment * Alignment;
    }

    /// <summary>Gives each buffer an offset no buffer live at the same time overlaps; returns the arena size.</summary>
    private static long Place(List<Buffer> buffers)
    {
        var order = new List<Buffer>(buffers);
        order.Sort((a, b) => a.Bytes != b.Bytes ? b.Bytes.CompareTo(a.Bytes) : a.Start.CompareTo(b.Start));
        var placed = new List<Buffer>();
        var conflicts = new List<Buffer>();
        long size = 0;
        foreach (var buffer in order)
        {
            conflicts.Clear();
            foreach (var p in placed)
                if (p.Start <= buffer.End && buffer.Start <= p.End) conflicts.Add(p);
            conflicts.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            long offset = 0;
            foreach (var c in conflicts)
            {
                if (offset + buffer.Bytes <= c.Offset) break;
                offset = Math.Max(offset, c.Offset + c.Bytes);
            }
            buffer.Offset = offset;
            placed.Add(buffer);
            size = Math.Max(size, offset + buffer.Bytes);
        }
        return size;
    }
}
