namespace Kiln;

/// <summary>The element type of a tensor.</summary>
public enum DType : byte
{
    Float32,
    Float64,
    Int32,
    Int64,
    Bool,
    UInt8,
    Int8,
}

/// <summary>Facts about each <see cref="DType"/>.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Bool or DType.UInt8 or DType.Int8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for float32 and float64.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>True for the integer types (not bool).</summary>
    public static bool IsInteger(this DType dtype) => dtype is DType.Int32 or DType.Int64 or DType.UInt8 or DType.Int8;

    /// <summary>The name PyTorch prints: float32, int64, bool, ...</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        DType.UInt8 => "uint8",
        DType.Int8 => "int8",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype two operands promote to (PyTorch's rules for tensor-tensor ops).</summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        static int Rank(DType d) => d switch
        {
            DType.Bool => 0,
            DType.UInt8 => 1,
            DType.Int8 => 1,
            DType.Int32 => 2,
            DType.Int64 => 3,
            DType.Float32 => 4,
            DType.Float64 => 5,
            _ => 0,
        };
        if ((a == DType.UInt8 && b == DType.Int8) || (a == DType.Int8 && b == DType.UInt8)) return DType.Int32;
        return Rank(a) >= Rank(b) ? a : b;
    }

    internal static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        throw new NotSupportedException($"{typeof(T).Name} is not a Kiln element type");
    }
}
