using Kiln.Ops;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>A tensor holding a copy of <paramref name="data"/>, laid out in <paramref name="shape"/> (row-major).</summary>
    public static Tensor From<T>(ReadOnlySpan<T> data, params ReadOnlySpan<int> shape) where T : unmanaged
    {
        var dims = shape.ToArray();
        long n = Shape.Wrap(dims).NumElements;
        if (n != data.Length)
            throw new KilnShapeException($"Tensor.From: {data.Length} values do not fill shape {Shape.Format(dims)} ({n} elements)");
        var t = Empty(dims, DTypeInfo.Of<T>());
        data.CopyTo(t.Span<T>());
        return t;
    }

    /// <summary>A 1-D tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor From<T>(T[] data) where T : unmanaged => From<T>(data, data.Length);

    /// <summary>A 0-d tensor holding <paramref name="value"/> converted to <paramref name="dtype"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full([], value, dtype);

    /// <summary>A tensor of <paramref name="shape"/> with every element <paramref name="value"/>.</summary>
    public static Tensor Full(ReadOnlySpan<int> shape, double value, DType dtype = DType.Float32)
    {
        var t = Empty(shape, dtype);
        t.FillRaw(value);
        return t;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(ReadOnlySpan<int> shape, DType dtype = DType.Float32) => EmptyZeroed(shape, dtype);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(ReadOnlySpan<int> shape, DType dtype = DType.Float32) => Full(shape, 1, dtype);

    /// <summary>Zeros with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like.ShapeArray, like.DType);

    /// <summary>Ones with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Ones(like.ShapeArray, like.DType);

    /// <summary><paramref name="value"/> everywhere, with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor FullLike(Tensor like, double value) => Full(like.ShapeArray, value, like.DType);

    private void FillRaw(double value)
    {
        switch (DType)
        {
            case DType.Float32: Span<float>().Fill((float)value); break;
            case DType.Float64: Span<double>().Fill(value); break;
            case DType.Int32: Span<int>().Fill(checked((int)value)); break;
            case DType.Int64: Span<long>().Fill(checked((long)value)); break;
            case DType.Bool: Span<bool>().Fill(value != 0); break;
            case DType.UInt8: Span<byte>().Fill(checked((byte)value)); break;
            case DType.Int8: Span<sbyte>().Fill(checked((sbyte)value)); break;
        }
    }

    /// <summary>The elements in row-major order. <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var c = IsContiguous ? this : Contiguous();
        try { return c.Span<T>().ToArray(); }
        finally { if (!ReferenceEquals(c, this)) c.Dispose(); }
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (NumElements != 1)
            throw new KilnShapeException($"Item() needs a tensor with one element, but this one has shape {Shape}");
        unsafe { CheckType<T>(); return *(T*)DataPointer; }
    }

    /// <summary>The value of a one-element tensor, as a double whatever the dtype.</summary>
    public double Item()
    {
        if (NumElements != 1)
            throw new KilnShapeException($"Item() needs a tensor with one element, but this one has shape {Shape}");
        unsafe
        {
            var p = DataPointer;
            return DType switch
            {
                DType.Float32 => *(float*)p,
                DType.Float64 => *(double*)p,
                DType.Int32 => *(int*)p,
                DType.Int64 => *(long*)p,
                DType.Bool => *(bool*)p ? 1 : 0,
                DType.UInt8 => *(byte*)p,
                DType.Int8 => *(sbyte*)p,
                _ => throw new InvalidOperationException(),
            };
        }
    }

    /// <summary>A contiguous copy of this tensor's values, tracked by autograd.</summary>
    public Tensor Clone() => Dispatcher.Call(CloneOp.Instance, NoAttributes.Instance, this);

    /// <summary>This tensor when it is contiguous, else a contiguous copy (tracked by autograd).</summary>
    public Tensor Contiguous() => IsContiguous ? this : Clone();
}
