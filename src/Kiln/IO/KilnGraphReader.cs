using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Kiln.Compile;
using Kiln.Ops;

namespace Kiln.IO;

/// <summary>
/// Reads a <c>.kiln</c> file (layout: <see cref="KilnGraphFormat"/>) into a runnable
/// <see cref="CompiledFunction"/>, trusting nothing in it. In order: the magic and the format
/// version; the section lengths against the file's length; the CRC-32 of every byte (so a damaged
/// file is named as such before anything in it is believed); the graph section, where every count
/// is bounded by the bytes left before anything is allocated from it, every name is valid UTF-8 of
/// bounded length, every op is looked up by name in the registry (never as a type), every attribute
/// record is decoded by its op with range checks, every value id must name a value defined before
/// its use; the weights section (safetensors, with its own checks), whose tensors must be exactly
/// the graph's parameters and constants with their declared dtypes and shapes; then every node's
/// result spec is inferred again by its op and compared with the file's, and the verifier runs.
/// Only then are the passes (those of this Kiln version, lowering included) and memory planning run.
/// Every problem is a <see cref="KilnFormatException"/> that names the file and, where it applies,
/// the node (as the graph printer numbers it: %3) and the field. Loading runs no code from the file.
/// </summary>
internal static class KilnGraphReader
{
    // Smallest encodings, which bound each count by the bytes left: name length + dtype + rank, etc.
    private const int MinNamedSpecBytes = 4 + 2;
    private const int MinSpecBytes = 2;
    private const int MinNodeBytes = 4 + 4 + 4 + 2;
    private const int IdBytes = 4;

    private sealed record NodeRecord(OpDef Op, OpAttributes Attributes, int[] Inputs, TensorSpec Spec);

    private sealed record GraphRecord(string Name, List<TensorSpec> Inputs, List<(string Name, TensorSpec Spec)> Parameters,
        List<TensorSpec> Constants, List<NodeRecord> Nodes, int[] Outputs);

    /// <summary>Reads the file held by <paramref name="stream"/> (seekable) from its current position to its end.</summary>
    internal static CompiledFunction Read(Stream stream, string source, CompileOptions options)
    {
        long start = stream.Position;
        long length = stream.Length - start;
        int fixedBytes = KilnGraphFormat.HeaderBytes + KilnGraphFormat.TrailerBytes;
        if (length < fixedBytes) throw Error(source, $"{length} bytes is too short for a .kiln file (its header and checksum alone take {fixedBytes})");
        Span<byte> header = stackalloc byte[KilnGraphFormat.HeaderBytes];
        ReadExactly(stream, header, source);
        if (!header[..8].SequenceEqual(KilnGraphFormat.Magic))
            throw Error(source, "does not start with \"KILNGRPH\": it is not a .kiln graph file");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != KilnGraphFormat.Version)
            throw Error(source, version > KilnGraphFormat.Version
                ? $"is format version {version}, newer than this Kiln reads (version {KilnGraphFormat.Version}); load it with a newer Kiln"
                : $"has format version {version}, which no Kiln wrote (this Kiln reads version {KilnGraphFormat.Version})");
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (flags != 0) throw Error(source, $"sets the flags 0x{flags:X8}, which format version {version} does not define");
        ulong graphBytes = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        ulong weightBytes = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        if (graphBytes > (ulong)length || weightBytes > (ulong)length || (long)graphBytes + (long)weightBytes + fixedBytes != length)
            throw Error(source, $"declares a graph section of {graphBytes} bytes and weights of {weightBytes} bytes, which with the {fixedBytes} bytes " +
                $"of header and checksum do not make the file's {length} bytes");
        if ((long)graphBytes > KilnGraphFormat.MaxGraphBytes)
            throw Error(source, $"declares a graph section of {graphBytes} bytes; at most {KilnGraphFormat.MaxGraphBytes} are accepted");

        CheckChecksum(stream, start, length, source);
        stream.Position = start + KilnGraphFormat.HeaderBytes;
        var section = new byte[graphBytes];
        ReadExactly(stream, section, source);
        var record = ParseGraph(section, source);
        var weights = Safetensors.Read(stream, (long)weightBytes, $"weights section of {source}");
        return Build(record, weights, source, options);
    }

    private static void CheckChecksum(Stream stream, long start, long length, string source)
    {
        stream.Position = start;
        var buffer = new byte[(int)Math.Min(1 << 16, length)];
        uint crc = Crc32.Start;
        for (long left = length - KilnGraphFormat.TrailerBytes; left > 0;)
        {
            int n = (int)Math.Min(buffer.Length, left);
            ReadExactly(stream, buffer.AsSpan(0, n), source);
            crc = Crc32.Append(crc, buffer.AsSpan(0, n));
            left -= n;
        }
        Span<byte> trailer = stackalloc byte[KilnGraphFormat.TrailerBytes];
        ReadExactly(stream, trailer, source);
        uint recorded = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (Crc32.Finish(crc) != recorded)
            throw Error(source, $"fails its CRC-32 check (0x{Crc32.Finish(crc):X8}, the file records 0x{recorded:X8}): the file is damaged");
    }

    // ---- the graph section ----

    private static GraphRecord ParseGraph(byte[] section, string source)
    {
        var r = new Cursor(section, source);
        var name = r.Name("the graph's name");
        int inputCount = r.Count("inputs", MinNamedSpecBytes);
        var inputs = new List<TensorSpec>(inputCount);
        for (int i = 0; i < inputCount; i++)
        {
            r.Name($"input {i}'s name");
            inputs.Add(r.Spec($"input {i}"));
        }
        int parameterCount = r.Count("parameters", MinNamedSpecBytes);
        var parameters = new List<(string, TensorSpec)>(parameterCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < parameterCount; i++)
        {
            var parameter = r.Name($"parameter {i}'s name");
            if (parameter.Length == 0) throw Error(source, $"parameter {i} has an empty name");
            if (!names.Add(parameter)) throw Error(source, $"two parameters are named '{parameter}'");
            parameters.Add((parameter, r.Spec($"parameter '{parameter}'")));
        }
        int constantCount = r.Count("constants", MinSpecBytes);
        var constants = new List<TensorSpec>(constantCount);
        for (int i = 0; i < constantCount; i++)
        {
            if (names.Contains(KilnGraphFormat.ConstantName(i))) throw Error(source, $"a parameter is named '{KilnGraphFormat.ConstantName(i)}', the weights' name of constant {i}");
            constants.Add(r.Spec($"constant %c{i}"));
        }

        int firstNode = inputCount + parameterCount + constantCount;
        int nodeCount = r.Count("nodes", MinNodeBytes);
        var nodes = new List<NodeRecord>(nodeCount);
        for (int k = 0; k < nodeCount; k++)
        {
            var opName = r.Name($"node %{k}'s op name");
            var where = $"node %{k} ({opName})";
            if (!OpRegistry.TryGet(opName, out var op))
                throw Error(source, $"{where}: no op is named '{opName}' in this Kiln (a file from a newer Kiln, or a damaged one)");
            if (!op.IsPortable)
                throw Error(source, $"{where}: {opName} is an op of this executor's lowering passes, which a .kiln file never holds");
            int attributeBytes = r.Count($"attribute bytes of {where}", 1);
            var attributes = op.ReadAttributesUntyped(new AttributeReader(r.Bytes(attributeBytes), $"{Describe(source)}: {where}"));
            int arity = r.Count($"inputs of {where}", IdBytes);
            if (op.Arity == OpDef.Variadic ? arity < 1 : arity != op.Arity)
                throw Error(source, $"{where} has {arity} inputs; {op.Name} takes {(op.Arity == OpDef.Variadic ? "at least 1" : op.Arity.ToString())}");
            var ids = new int[arity];
            for (int i = 0; i < arity; i++)
            {
                uint id = r.U32($"input {i} of {where}");
                if (id >= (uint)(firstNode + k))
                    throw Error(source, $"{where}: input {i} is value {id}, which is not defined before the node (values 0..{firstNode + k - 1} are)");
                ids[i] = (int)id;
            }
            nodes.Add(new NodeRecord(op, attributes, ids, r.Spec($"the result of {where}")));
        }
        int total = firstNode + nodeCount;
        int outputCount = r.Count("outputs", IdBytes);
        if (outputCount == 0) throw Error(source, "the graph has no outputs");
        var outputs = new int[outputCount];
        for (int k = 0; k < outputCount; k++)
        {
            uint id = r.U32($"output {k}");
            if (id >= (uint)total) throw Error(source, $"output {k} is value {id}; the graph defines values 0..{total - 1}");
            outputs[k] = (int)id;
        }
        r.End();
        return new GraphRecord(name, inputs, parameters, constants, nodes, outputs);
    }

    // ---- building the graph ----

    private static CompiledFunction Build(GraphRecord record, SafetensorsData weights, string source, CompileOptions options)
    {
        var graph = new Graph(record.Name);
        var parameters = new List<Tensor>();
        bool done = false;
        try
        {
            var values = new List<GraphValue>();
            foreach (var spec in record.Inputs) values.Add(graph.AddInput(spec, dense: true));
            foreach (var (name, spec) in record.Parameters)
            {
                var t = Weight(weights, name, spec, $"parameter '{name}'", source);
                parameters.Add(t);
                values.Add(graph.AddParameter(name, t));
            }
            for (int i = 0; i < record.Constants.Count; i++)
                values.Add(graph.AddConstant(Weight(weights, KilnGraphFormat.ConstantName(i), record.Constants[i], $"constant %c{i}", source)));
            if (weights.Tensors.Count != record.Parameters.Count + record.Constants.Count)
                foreach (var name in weights.Tensors.Keys)
                    if (!ContainsWeight(record, name))
                        throw Error(source, $"the weights section holds a tensor '{name}' that is neither a parameter nor a constant of the graph");

            var specs = new List<TensorSpec>();
            for (int k = 0; k < record.Nodes.Count; k++)
            {
                var node = record.Nodes[k];
                var inputs = new GraphValue[node.Inputs.Length];
                specs.Clear();
                for (int i = 0; i < inputs.Length; i++)
                {
                    inputs[i] = values[node.Inputs[i]];
                    specs.Add(inputs[i].Spec);
                }
                var inferred = Infer(node, specs.ToArray(), $"node %{k} ({node.Op.Name})", source);
                if (inferred != node.Spec)
                    throw Error(source, $"node %{k} ({node.Op.Name}) declares its result {GraphPrinter.Spec(node.Spec)}, but the op infers {GraphPrinter.Spec(inferred)} from its inputs");
                values.Add(graph.AddNode(node.Op, node.Attributes, inputs, node.Spec).Output);
            }
            foreach (var id in record.Outputs) graph.Outputs.Add(values[id]);
            if (GraphVerifier.FindProblem(graph) is { } problem) throw Error(source, $"the graph is not valid: {problem}");

            var compiled = Prepare(graph, source, options);
            CompiledFunction function;
            try
            {
                // Frozen, the graph holds copies of the parameters as constants: the loaded tensors are not needed.
                function = new CompiledFunction(compiled, options.FreezeParameters ? [] : parameters, options);
            }
            catch
            {
                compiled.Dispose();
                throw;
            }
            if (options.FreezeParameters)
                foreach (var p in parameters) p.Dispose();
            done = true;
            return function;
        }
        finally
        {
            if (!done)
            {
                graph.DisposeConstants();
                weights.Dispose();
            }
        }
    }

    private static Tensor Weight(SafetensorsData weights, string name, TensorSpec spec, string what, string source)
    {
        if (!weights.Tensors.TryGetValue(name, out var t))
            throw Error(source, $"the weights section has no tensor '{name}' for {what}");
        if (TensorSpec.Of(t) != spec)
            throw Error(source, $"the weights section's tensor '{name}' is {GraphPrinter.Spec(TensorSpec.Of(t))}; the graph declares {what} as {GraphPrinter.Spec(spec)}");
        return t;
    }

    private static bool ContainsWeight(GraphRecord record, string name)
    {
        foreach (var (p, _) in record.Parameters)
            if (p == name) return true;
        for (int i = 0; i < record.Constants.Count; i++)
            if (KilnGraphFormat.ConstantName(i) == name) return true;
        return false;
    }

    /// <summary>The node's result spec as its op infers it; the op's shape errors (and any failure of its rule on hostile attributes) name the node.</summary>
    private static TensorSpec Infer(NodeRecord node, TensorSpec[] inputs, string where, string source)
    {
        try
        {
            return node.Op.InferUntyped(inputs, node.Attributes);
        }
        catch (Exception e) when (e is KilnException or ArgumentException or ArithmeticException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw Error(source, $"{where} does not type-check: {e.Message}");
        }
    }

    /// <summary>Runs this Kiln's passes on the checked graph and plans its memory (allocated at the first call).</summary>
    private static CompiledGraph Prepare(Graph graph, string source, CompileOptions options)
    {
        Graph portable, executed;
        try
        {
            (portable, executed) = PassPipeline.Optimize(graph, options, KilnEnvironment.DumpGraphDirectory);
        }
        catch (Exception e) when (e is KilnException or ArgumentException or ArithmeticException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw Error(source, $"the graph could not be optimized: {e.Message}");
        }
        var plan = MemoryPlanningPass.Plan(executed);
        if (plan.ArenaBytes > int.MaxValue)
        {
            if (!ReferenceEquals(portable, executed)) executed.DisposeConstants();
            throw Error(source, $"the graph's intermediate results need {plan.ArenaBytes} bytes at once, more than one buffer holds ({int.MaxValue})");
        }
        return new CompiledGraph(TraceSignature.Loaded(portable.Inputs), portable, executed);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException)
        {
            throw Error(source, "ended early (was it changed while it was read?)");
        }
    }

    private static string Describe(string source) => $".kiln {source}";

    internal static KilnFormatException Error(string source, string what) => new($"{Describe(source)}: {what}");

    /// <summary>Reads the graph section front to back; every read is checked against the bytes left.</summary>
    private sealed class Cursor(byte[] bytes, string source)
    {
        private int _position;

        private int Left => bytes.Length - _position;

        internal uint U32(string what)
        {
            if (Left < 4) throw Error(source, $"the graph section ends inside {what}");
            uint v = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(_position));
            _position += 4;
            return v;
        }

        /// <summary>A count of items of at least <paramref name="minItemBytes"/> bytes each, so it can be no more than the bytes left hold.</summary>
        internal int Count(string what, int minItemBytes)
        {
            uint n = U32($"the count of {what}");
            if (n > (uint)(Left / minItemBytes))
                throw Error(source, $"the graph section declares {n} {what}, more than its {Left} remaining bytes can hold");
            return (int)n;
        }

        internal ReadOnlyMemory<byte> Bytes(int n)
        {
            var memory = new ReadOnlyMemory<byte>(bytes, _position, n);
            _position += n;
            return memory;
        }

        internal string Name(string what)
        {
            uint n = U32($"the length of {what}");
            if (n > KilnGraphFormat.MaxNameBytes) throw Error(source, $"{what} is {n} bytes long; at most {KilnGraphFormat.MaxNameBytes} are accepted");
            if (n > Left) throw Error(source, $"{what} runs past the end of the graph section");
            var span = bytes.AsSpan(_position, (int)n);
            if (!Utf8.IsValid(span)) throw Error(source, $"{what} is not valid UTF-8");
            _position += (int)n;
            return Encoding.UTF8.GetString(span);
        }

        internal TensorSpec Spec(string what)
        {
            if (Left < 2) throw Error(source, $"the graph section ends inside the spec of {what}");
            byte dtype = bytes[_position], rank = bytes[_position + 1];
            _position += 2;
            if (dtype > (byte)DType.Int8) throw Error(source, $"{what} has dtype code {dtype}; codes 0..{(byte)DType.Int8} are defined");
            if (rank > KilnGraphFormat.MaxRank) throw Error(source, $"{what} has {rank} dimensions; at most {KilnGraphFormat.MaxRank} are accepted");
            if (Left < rank * 4) throw Error(source, $"the graph section ends inside the shape of {what}");
            var dims = new int[rank];
            long elements = 1;
            for (int i = 0; i < rank; i++)
            {
                dims[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(_position));
                _position += 4;
                if (dims[i] < 0) throw Error(source, $"{what} has the negative dimension {dims[i]} (dimension {i})");
                elements = Math.Min(elements * dims[i], (long)int.MaxValue + 1);
            }
            if (elements > int.MaxValue)
                throw Error(source, $"{what} has shape {Shape.Format(dims)}, more than the {int.MaxValue} elements a Kiln tensor holds");
            return new TensorSpec(Shape.Wrap(dims), (DType)dtype);
        }

        internal void End()
        {
            if (Left != 0) throw Error(source, $"the graph section has {Left} bytes after its outputs");
        }
    }
}
