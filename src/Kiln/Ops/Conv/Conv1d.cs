namespace Kiln.NN
{
    using Kiln.Ops;

    public static partial class F
    {
        /// <summary>
        /// 1-D convolution (cross-correlation) of <paramref name="input"/> [N, C, L] (or [C, L]) with
        /// <paramref name="weight"/> [O, C / groups, k], plus <paramref name="bias"/> [O] when given.
        /// <paramref name="padding"/> is an int (added at both ends) or <see cref="Padding.Same"/>.
        /// Returns [N, O, OL]. Runs as the height-1 case of <see cref="Conv2d"/>.
        /// </summary>
        public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1,
            Padding padding = default, int dilation = 1, int groups = 1)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(weight);
            const string op = "Conv1d";
            TensorSpec[] specs = bias is null
                ? [TensorSpec.Of(input), TensorSpec.Of(weight)]
                : [TensorSpec.Of(input), TensorSpec.Of(weight), TensorSpec.Of(bias)];
            string[] roles = ["input", "weight", "bias"];
            if (input.Rank is not (2 or 3))
                throw SpatialShapeError.Create(op, $"input must have 3 dimensions (batch, channels, length) or 2 (channels, length), got {input.Rank}", specs, roles);
            if (weight.Rank != 3)
                throw SpatialShapeError.Create(op, $"weight must have 3 dimensions (out channels, in channels / groups, kernel length), got {weight.Rank}", specs, roles);
            if (!padding.IsSame && padding.Height != padding.Width)
                throw SpatialShapeError.Create(op, $"padding {padding} has two values; a 1-d convolution takes one", specs, roles);
            bool unbatched = input.Rank == 2;
            var x = unbatched ? input.Reshape(1, input.ShapeArray[0], input.ShapeArray[1]) : input;
            int batch = x.ShapeArray[0], channels = x.ShapeArray[1], length = x.ShapeArray[2];
            int outChannels = weight.ShapeArray[0], groupChannels = weight.ShapeArray[1], kernel = weight.ShapeArray[2];
            var pads = padding.IsSame
                ? Conv2dAttributes.SamePadding(1, length, 1, kernel, 1, stride, 1, dilation)
                : new IntList(0, padding.Width, 0, padding.Width);
            var attributes = new Conv2dAttributes(new IntList(1, stride), pads, new IntList(1, dilation), groups);
            // Check here so the errors speak of the 1-d shapes the caller passed, not the 2-d ones below.
            if (input.DType != weight.DType || !input.DType.IsFloatingPoint())
                throw SpatialShapeError.Create(op, "input and weight must both be float32 or both float64", specs, roles);
            attributes.Check(op, specs, roles, channels, 1, length, outChannels, groupChannels, 1, kernel);

            var x4 = x.Reshape(batch, channels, 1, length);
            var w4 = weight.Reshape(outChannels, groupChannels, 1, kernel);
            var y = bias is null ? Conv2dOp.Apply(x4, w4, attributes) : Conv2dOp.Apply(x4, w4, CheckedBias(op, bias, input, weight), attributes);
            y = y.Reshape(batch, outChannels, y.ShapeArray[3]);
            return unbatched ? y.Reshape(outChannels, y.ShapeArray[2]) : y;
        }
    }
}
