namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// The values as PyTorch prints them, e.g. <c>tensor([[1.0000, 2.0000], [3.0000, 4.0000]])</c> on two
    /// lines, with <c>dtype=</c> for dtypes other than float32, int64 and bool, and <c>grad_fn=</c> or
    /// <c>requires_grad=True</c> when autograd tracks the tensor. Large tensors show only their edges.
    /// </summary>
    public override string ToString()
        => IsDisposed ? $"tensor(<disposed>, size={TensorPrinter.SizeTuple(ShapeArray)})" : TensorPrinter.Format(this);
}
