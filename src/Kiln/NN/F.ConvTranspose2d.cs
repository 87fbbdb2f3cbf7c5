using Kiln.Ops;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// 2-D transposed convolution ("deconvolution", the gradient of <see cref="Conv2d"/> with respect
    /// to its input) of <paramref name="input"/> [N, Cin, H, W] (or [Cin, H, W]) with
    /// <paramref name="weight"/> [Cin, Cout / groups, kH, kW], plus <paramref name="bias"/> [Cout]. The
    /// output is [N, Cout, OH, OW] with OH = (H - 1)·stride - 2·padding + dilation·(kH - 1) +
    /// outputPadding + 1 (likewise OW): <paramref name="outputPadding"/> (smaller than the stride or
    /// the dilation) adds rows and columns at the bottom and right, picking one of the input sizes a
    /// strided convolution maps to the same output size.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Size2d? stride = null, Padding padding = default,
        Size2d? outputPadding = null, int groups = 1, Size2d? dilation = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        const string op = "ConvTranspose2d";
        var s = stride ?? 1;
        var d = dilation ?? 1;
        var o = outputPadding ?? 0;
        TensorSpec[] specs = bias is null
            ? [TensorSpec.Of(input), TensorSpec.Of(weight)]
            : [TensorSpec.Of(input), TensorSpec.Of(weight), TensorSpec.Of(bias)];
        string[] roles = ["input", "weight", "bias"];
        if (padding.IsSame)
            throw SpatialShapeError.Create(op, "padding 'same' is not supported for a transposed convolution; give the padding in rows and columns", specs, roles);
        if (input.Rank is not (3 or 4))
            throw SpatialShapeError.Create(op, $"input must have 4 dimensions (batch, channels, height, width) or 3 (channels, height, width), got {input.Rank}", specs, roles);
        if (weight.Rank != 4)
            throw SpatialShapeError.Create(op, $"weight must have 4 dimensions (in channels, out channels / groups, kernel height, kernel width), got {weight.Rank}", specs, roles);
        if (s.Height < 1 || s.Width < 1 || d.Height < 1 || d.Width < 1)
            throw SpatialShapeError.Create(op, $"stride {s} and dilation {d} must be positive", specs, roles);
        if (padding.Height < 0 || padding.Width < 0 || o.Height < 0 || o.Width < 0)
            throw SpatialShapeError.Create(op, $"padding {padding} and output padding {o} must not be negative", specs, roles);
        if (o.Height >= Math.Max(s.Height, d.Height) || o.Width >= Math.Max(s.Width, d.Width))
            throw SpatialShapeError.Create(op, $"output padding {o} must be smaller than either the stride {s} or the dilation {d}", specs, roles);
        bool unbatched = input.Rank == 3;
        var x = unbatched ? input.Reshape(1, input.ShapeArray[0], input.ShapeArray[1], input.ShapeArray[2]) : input;
        int channels = x.ShapeArray[1], height = x.ShapeArray[2], width = x.ShapeArray[3];
        int kh = weight.ShapeArray[2], kw = weight.ShapeArray[3];
        if (groups < 1 || weight.ShapeArray[0] % groups != 0)
            throw SpatialShapeError.Create(op, $"groups={groups} must be positive and divide the weight's {weight.ShapeArray[0]} input channels", specs, roles);
        if (channels != weight.ShapeArray[0])
            throw SpatialShapeError.Create(op, $"input has {channels} channels, weight expects {weight.ShapeArray[0]}", specs, roles);
        long outHeight = (long)(height - 1) * s.Height - 2L * padding.Height + (long)d.Height * (kh - 1) + o.Height + 1;
        long outWidth = (long)(width - 1) * s.Width - 2L * padding.Width + (long)d.Width * (kw - 1) + o.Width + 1;
        if (outHeight < 1 || outWidth < 1 || outHeight > int.MaxValue || outWidth > int.MaxValue)
            throw SpatialShapeError.Create(op, $"the output size {outHeight}x{outWidth} is not positive (padding {padding} is too large for this input and kernel)", specs, roles);

        // The result is the input gradient of a convolution of an OH×OW image whose output is the
        // input. The convolution's bottom/right padding sets which OH it accepts; the scatter reads
        // only the top/left padding. Output padding beyond the convolution's padding receives no
        // taps at all, so those rows and columns are appended as zeros.
        int padBottom = padding.Height - o.Height, padRight = padding.Width - o.Width;
        int zeroRows = Math.Max(-padBottom, 0), zeroColumns = Math.Max(-padRight, 0);
        var attributes = new Conv2dAttributes(new IntList(s.Height, s.Width),
            new IntList(padding.Height, padding.Width, Math.Max(padBottom, 0), Math.Max(padRight, 0)), new IntList(d.Height, d.Width), groups);
        var y = Conv2dInputGradOp.Apply(x, weight, attributes, (int)outHeight - zeroRows, (int)outWidth - zeroColumns);
        if (zeroRows > 0)
            y = Tensor.Cat([y, Tensor.Zeros([y.ShapeArray[0], y.ShapeArray[1], zeroRows, y.ShapeArray[3]], y.DType)], 2);
        if (zeroColumns > 0)
            y = Tensor.Cat([y, Tensor.Zeros([y.ShapeArray[0], y.ShapeArray[1], y.ShapeArray[2], zeroColumns], y.DType)], 3);
        if (bias is not null)
        {
            int outChannels = y.ShapeArray[1];
            if (bias.Rank != 1 || bias.ShapeArray[0] != outChannels || bias.DType != y.DType)
                throw SpatialShapeError.Create(op, $"bias must be [{outChannels}] {y.DType.Name()} (one value per output channel)", specs, roles);
            y = y + bias.Reshape(1, outChannels, 1, 1);
        }
        return unbatched ? y.Reshape(y.ShapeArray[1], y.ShapeArray[2], y.ShapeArray[3]) : y;
    }
}
