namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// A C# number used with a tensor of dtype <paramref name="like"/>, as the 0-d tensor PyTorch makes
    /// of a Python scalar: the tensor's own dtype when that is floating point or when the value is
    /// integral (int64 beside a bool tensor); float32 otherwise, so an int tensor minus 0.5 is float.
    /// </summary>
    internal static Tensor ScalarOperand(double value, DType like)
    {
        DType dtype;
        if (like.IsFloatingPoint()) dtype = like;
        else if (!double.IsInteger(value)) dtype = DType.Float32;
        else dtype = like == DType.Bool ? DType.Int64 : like;
        return Scalar(value, dtype);
    }

    /// <summary>This tensor when it is floating point, else converted to float32 (PyTorch's rule for math functions of integer tensors).</summary>
    internal Tensor AsFloatingPoint() => DType.IsFloatingPoint() ? this : To(DType.Float32);
}
