using System.Buffers.Binary;
using Kiln.Ops;

namespace Kiln.IO;

/// <summary>
/// The layout of a <c>.kiln</c> file, shared by its writer and reader. All numbers little-endian:
/// <code>
/// header   8  magic "KILNGRPH"
///          4  format version (u32, 1)
///          4  flags (u32, 0: none defined)
///          8  graph section length G (u64)
///          8  weights section length W (u64)
/// graph    G  name, inputs (name, spec), parameters (name, spec), constants (spec),
///             nodes (op name, attribute bytes, input value ids, result spec), output value ids
/// weights  W  a safetensors file: each parameter under its name, constant i as "const:i"
/// trailer  4  CRC-32 of every byte before it
/// </code>
/// Strings are a u32 byte count and UTF-8; counts are u32; a spec is a dtype byte, a rank byte and
/// rank i32 dimensions. Value ids number the inputs, then the parameters, the constants, and the
/// node results in node order, so a node may read only ids below its own (the file is in
/// topological order by construction). Attribute bytes are what each op's attribute record writes
/// (<see cref="AttributeWriter"/>).
/// </summary>
internal static class KilnGraphFormat
{
    internal static ReadOnlySpan<byte> Magic => "KILNGRPH"u8;

    internal const uint Version = 1;

    internal const int HeaderBytes = 32;

    internal const int TrailerBytes = 4;

    /// <summary>The most dimensions a spec may have in a file (far more than any real tensor has).</summary>
    internal const int MaxRank = 64;

    /// <summary>The longest name (graph, input, parameter, op) accepted, in UTF-8 bytes.</summary>
    internal const int MaxNameBytes = 4096;

    /// <summary>The largest graph section accepted: real graphs take kilobytes to a few megabytes.</summary>
    internal const long MaxGraphBytes = 256L << 20;

    /// <summary>The name a constant's data has in the weights section.</summary>
    internal static string ConstantName(int index) => $"const:{index}";

    internal static void WriteHeader(Span<byte> header, long graphBytes, long weightBytes)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)graphBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)weightBytes);
    }

    internal static void WriteSpec(BinaryWriter writer, TensorSpec spec)
    {
        var dims = spec.Shape.AsSpan();
        writer.Write((byte)spec.DType);
        writer.Write((byte)dims.Length);
        foreach (var d in dims) writer.Write(d);
    }

    internal static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        if (bytes.Length > MaxNameBytes) throw new KilnException($"the name '{text[..64]}...' is {bytes.Length} bytes long; a .kiln file holds names of at most {MaxNameBytes}");
        writer.Write((uint)bytes.Length);
        writer.Write(bytes);
    }
}
