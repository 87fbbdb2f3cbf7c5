using Kiln.Compile;
using Kiln.Ops;

namespace Kiln.IO;

/// <summary>
/// Writes a portable graph and its weights as a <c>.kiln</c> file (layout: <see cref="KilnGraphFormat"/>).
/// The bytes depend only on the graph: values are numbered by position, attribute records write their
/// fields in a fixed order, and the weights are listed in graph order, so saving the same graph twice
/// gives the same file.
/// </summary>
internal static class KilnGraphWriter
{
    internal static void Write(Stream stream, Graph graph)
    {
        var section = GraphSection(graph, out var weights);
        long weightBytes = Safetensors.Length(weights);
        var header = new byte[KilnGraphFormat.HeaderBytes];
        KilnGraphFormat.WriteHeader(header, section.Length, weightBytes);
        var checksummed = new ChecksumStream(stream);
        checksummed.Write(header);
        checksummed.Write(section);
        Safetensors.Write(checksummed, weights);
        if (checksummed.Written != KilnGraphFormat.HeaderBytes + section.Length + weightBytes)
            throw new InvalidOperationException($"the weights section took {checksummed.Written - KilnGraphFormat.HeaderBytes - section.Length} bytes, {weightBytes} were announced");
        Span<byte> trailer = stackalloc byte[KilnGraphFormat.TrailerBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer, checksummed.Crc);
        stream.Write(trailer);
    }

    private static byte[] GraphSection(Graph graph, out List<KeyValuePair<string, Tensor>> weights)
    {
        var problem = GraphVerifier.FindProblem(graph);
        if (problem is not null) throw new KilnException($"graph {graph.Name} cannot be saved: {problem}");
        var ids = new Dictionary<GraphValue, int>(ReferenceEqualityComparer.Instance);
        weights = new List<KeyValuePair<string, Tensor>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            KilnGraphFormat.WriteString(w, graph.Name);
            w.Write((uint)graph.Inputs.Count);
            for (int i = 0; i < graph.Inputs.Count; i++)
            {
                ids.Add(graph.Inputs[i], ids.Count);
                KilnGraphFormat.WriteString(w, $"input{i}");
                KilnGraphFormat.WriteSpec(w, graph.Inputs[i].Spec);
            }
            w.Write((uint)graph.Parameters.Count);
            foreach (var p in graph.Parameters)
            {
                ids.Add(p, ids.Count);
                if (!names.Add(p.Name!)) throw new KilnException($"graph {graph.Name} cannot be saved: two parameters are named '{p.Name}'");
                KilnGraphFormat.WriteString(w, p.Name!);
                KilnGraphFormat.WriteSpec(w, p.Spec);
                weights.Add(new(p.Name!, p.Data!));
            }
            w.Write((uint)graph.Constants.Count);
            for (int i = 0; i < graph.Constants.Count; i++)
            {
                var c = graph.Constants[i];
                ids.Add(c, ids.Count);
                var name = KilnGraphFormat.ConstantName(i);
                if (!names.Add(name)) throw new KilnException($"graph {graph.Name} cannot be saved: a parameter is named '{name}', the name of a constant in the file");
                KilnGraphFormat.WriteSpec(w, c.Spec);
                weights.Add(new(name, c.Data!));
            }
            w.Write((uint)graph.Nodes.Count);
            foreach (var node in graph.Nodes)
            {
                if (!node.Op.IsPortable) throw new KilnException($"graph {graph.Name} cannot be saved: {node.Op.Name} is an op of the executor's lowering passes, not of the portable graph");
                KilnGraphFormat.WriteString(w, node.Op.Name);
                var attributes = new AttributeWriter();
                node.Attributes.Write(attributes);
                var bytes = attributes.ToArray();
                w.Write((uint)bytes.Length);
                w.Write(bytes);
                w.Write((uint)node.Inputs.Length);
                foreach (var input in node.Inputs) w.Write((uint)ids[input]);
                KilnGraphFormat.WriteSpec(w, node.Output.Spec);
                ids.Add(node.Output, ids.Count);
            }
            w.Write((uint)graph.Outputs.Count);
            foreach (var o in graph.Outputs) w.Write((uint)ids[o]);
        }
        return buffer.ToArray();
    }

    /// <summary>Passes writes through to a stream while folding them into a CRC-32.</summary>
    private sealed class ChecksumStream(Stream inner) : Stream
    {
        private uint _crc = Crc32.Start;

        internal uint Crc => Crc32.Finish(_crc);
        internal long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _crc = Crc32.Append(_crc, buffer);
            Written += buffer.Length;
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
