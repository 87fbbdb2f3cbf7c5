using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>Whether a floating-point tensor holds only finite values (anomaly mode, gradient checks).</summary>
internal static unsafe class FiniteCheck
{
    internal static bool AllFinite(Tensor t)
    {
        var layout = StridedLayout.Create(t.ShapeArray, t.StridesArray);
        int rows = layout.RowCount, n = layout.RowLength, stride = layout.RowStride(0);
        for (int r = 0; r < rows; r++)
        {
            int offset = layout.RowOffset(0, r);
            if (t.DType == DType.Float32)
            {
                float* p = (float*)t.DataPointer + offset;
                if (stride == 1) { if (!TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(p, n))) return false; }
                else for (int i = 0; i < n; i++) if (!float.IsFinite(p[(nint)i * stride])) return false;
            }
            else if (t.DType == DType.Float64)
            {
                double* p = (double*)t.DataPointer + offset;
                if (stride == 1) { if (!TensorPrimitives.IsFiniteAll(new ReadOnlySpan<double>(p, n))) return false; }
                else for (int i = 0; i < n; i++) if (!double.IsFinite(p[(nint)i * stride])) return false;
            }
        }
        return true;
    }
}
