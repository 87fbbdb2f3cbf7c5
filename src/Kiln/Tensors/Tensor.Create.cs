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

    /// <summary>A 1-D tensor holding a copy of <paramref name="data"/>.</summary>
    /// <remarks>
    /// Without this overload a collection expression, <c>Tensor.From&lt;float&gt;([1, 2])</c>, binds to the
    /// span-and-shape overload with an empty shape (a scalar) and fails.
    /// </remarks>
    public static Tensor From<T>(ReadOnlySpan<T> data) where T : unmanaged => From<T>(data, data.Length);

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

    /// <summary>0, 1, ..., up to <paramref name="end"/> (excluded), as int64 like PyTorch's integer arange.</summary>
    public static Tensor Arange(long end) => Arange(0, end, 1);

    /// <summary>
    /// <paramref name="start"/>, start + step, ... stopping before <paramref name="end"/>: ceil((end - start) / step)
    /// values, int64 unless <paramref name="dtype"/> says otherwise.
    /// </summary>
    public static Tensor Arange(long start, long end, long step = 1, DType dtype = DType.Int64)
    {
        if (step == 0) throw new ArgumentException("Arange: step must be nonzero");
        if (end != start && (end > start) != (step > 0))
            throw new ArgumentException($"Arange: the range [{start}, {end}) and step {step} point in opposite directions");
        Int128 span = (Int128)end - start;
        Int128 count = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
        if (count < 0) count = 0;
        if (count > int.MaxValue) throw new KilnShapeException($"Arange: {count} values are more than a tensor holds ({int.MaxValue})");
        int n = (int)count;
        var t = Empty([n], dtype);
        if (dtype == DType.Int64)
        {
            var values = t.Span<long>();
            for (int i = 0; i < n; i++) values[i] = start + i * step;
        }
        else
        {
            t.FillSequence(i => start + (double)(i * step));
        }
        return t;
    }

    /// <summary>0, 1, ..., up to <paramref name="end"/> (excluded), as float32 like PyTorch's floating-point arange.</summary>
    public static Tensor Arange(double end) => Arange(0, end, 1);

    /// <summary>
    /// <paramref name="start"/>, start + step, ... stopping before <paramref name="end"/>: ceil((end - start) / step)
    /// values (PyTorch's length rule), float32 unless <paramref name="dtype"/> says otherwise.
    /// </summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (!double.IsFinite(start) || !double.IsFinite(end) || !double.IsFinite(step))
            throw new ArgumentException($"Arange: start, end and step must be finite, got {start}, {end}, {step}");
        if (step == 0) throw new ArgumentException("Arange: step must be nonzero");
        if (end != start && (end > start) != (step > 0))
            throw new ArgumentException($"Arange: the range [{start}, {end}) and step {step} point in opposite directions");
        double count = Math.Ceiling((end - start) / step);
        if (count > int.MaxValue) throw new KilnShapeException($"Arange: {count} values are more than a tensor holds ({int.MaxValue})");
        var t = Empty([(int)Math.Max(count, 0)], dtype);
        t.FillSequence(i => start + i * step);
        return t;
    }

    /// <summary>
    /// <paramref name="steps"/> evenly spaced values from <paramref name="start"/> to <paramref name="end"/>,
    /// both included (float32 unless <paramref name="dtype"/> says otherwise).
    /// </summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32)
    {
        if (steps < 0) throw new ArgumentException($"Linspace: steps must be >= 0, got {steps}");
        if (!double.IsFinite(start) || !double.IsFinite(end))
            throw new ArgumentException($"Linspace: start and end must be finite, got {start}, {end}");
        var t = Empty([steps], dtype);
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        // Each half counts from its own end, so both endpoints come out exact (as PyTorch does).
        int half = steps == 1 ? 1 : steps / 2;
        t.FillSequence(i => i < half ? start + step * i : end - step * (steps - 1 - i));
        return t;
    }

    /// <summary>
    /// An <paramref name="n"/> x <paramref name="m"/> matrix (<paramref name="m"/> defaults to n) with ones on
    /// the main diagonal and zeros elsewhere.
    /// </summary>
    public static Tensor Eye(int n, int m = -1, DType dtype = DType.Float32)
    {
        if (m < 0) m = n;
        if (n < 0) throw new ArgumentException($"Eye: n must be >= 0, got {n}");
        var t = EmptyZeroed([n, m], dtype);
        int diagonal = Math.Min(n, m);
        using var ones = Full([diagonal], 1, dtype);
        using var view = t.AsStrided([diagonal], [m + 1], 0);
        Dispatcher.CopyInto(ones, view);
        return t;
    }

    // Writes value(i) at element i of a new contiguous 1-D tensor, converted as Cast would (truncating to integers).
    private void FillSequence(Func<long, double> value)
    {
        int n = NumElements;
        switch (DType)
        {
            case DType.Float32: { var s = Span<float>(); for (int i = 0; i < n; i++) s[i] = (float)value(i); break; }
            case DType.Float64: { var s = Span<double>(); for (int i = 0; i < n; i++) s[i] = value(i); break; }
            case DType.Int32: { var s = Span<int>(); for (int i = 0; i < n; i++) s[i] = checked((int)value(i)); break; }
            case DType.Int64: { var s = Span<long>(); for (int i = 0; i < n; i++) s[i] = checked((long)value(i)); break; }
            case DType.UInt8: { var s = Span<byte>(); for (int i = 0; i < n; i++) s[i] = checked((byte)value(i)); break; }
            case DType.Int8: { var s = Span<sbyte>(); for (int i = 0; i < n; i++) s[i] = checked((sbyte)value(i)); break; }
            default: throw new ArgumentException($"a sequence cannot be written as {DType.Name()}");
        }
    }

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
        TraceRecorder.Current?.ReadingValues(this, "ToArray()");
        var c = IsContiguous ? this : Contiguous();
        try { return c.Span<T>().ToArray(); }
        finally { if (!ReferenceEquals(c, this)) c.Dispose(); }
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>() where T : unmanaged
    {
        TraceRecorder.Current?.ReadingValues(this, "Item()");
        if (NumElements != 1)
            throw new KilnShapeException($"Item() needs a tensor with one element, but this one has shape {Shape}");
        unsafe { CheckType<T>(); return *(T*)DataPointer; }
    }

    /// <summary>The value of a one-element tensor, as a double whatever the dtype.</summary>
    public double Item()
    {
        TraceRecorder.Current?.ReadingValues(this, "Item()");
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
