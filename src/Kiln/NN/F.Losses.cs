using Kiln.Ops;

namespace Kiln.NN;

/// <summary>Functional forms of Kiln's layers, activations and losses (PyTorch's <c>torch.nn.functional</c>).</summary>
public static partial class F
{
    /// <summary>
    /// Cross entropy between logits <paramref name="input"/> ([N, C] or [N, C, d1, ...]) and
    /// <paramref name="target"/>: class indices (int64, [N] or [N, d1, ...]) or class probabilities
    /// (float, the input's shape). Supports per-class <paramref name="weight"/>, <paramref name="ignoreIndex"/>
    /// (indices only) and <paramref name="labelSmoothing"/> as PyTorch does.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        if (labelSmoothing < 0 || labelSmoothing > 1)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"CrossEntropy: labelSmoothing must be in [0, 1], got {labelSmoothing}");
        CheckClassInput("CrossEntropy", input, weight);
        // The common case (class indices into [N, C] logits, no class weights) is one fused primitive;
        // the composite below stays for the rest and is that primitive's reference decomposition.
        if (target.DType is DType.Int64 or DType.Int32 && input.Rank == 2 && weight is null)
        {
            var mode = reduction switch
            {
                Reduction.None => CrossEntropyOp.Reduction.None,
                Reduction.Sum => CrossEntropyOp.Reduction.Sum,
                _ => CrossEntropyOp.Reduction.Mean,
            };
            var indices = target.DType == DType.Int64 ? target : target.To(DType.Int64);
            return CrossEntropyOp.Apply(input, indices, new CrossEntropyOp.Attributes(ignoreIndex, mode, labelSmoothing));
        }
        var logp = input.LogSoftmax(1);
        if (target.DType.IsFloatingPoint())
        {
            if (target.Shape != input.Shape)
                throw new KilnShapeException($"CrossEntropy: probability targets must have the input's shape {input.Shape}, got {target.Shape}");
            int classes = input.ShapeArray[1];
            var t = labelSmoothing > 0 ? target * (1 - labelSmoothing) + labelSmoothing / classes : target;
            var weighted = weight is null ? logp : logp * ClassAxis(weight, input.Rank);
            var perSample = -(t * weighted).Sum(1);
            return Reduce(perSample, reduction);
        }

        var nll = NllLoss("CrossEntropy", logp, target, weight, ignoreIndex, reduction);
        if (labelSmoothing == 0) return nll;

        int c = input.ShapeArray[1];
        var mask = ValidMask(target, ignoreIndex, logp.DType);
        var classWeighted = weight is null ? logp : logp * ClassAxis(weight, input.Rank);
        var smooth = -classWeighted.Sum(1) * mask / c;
        Tensor smoothReduced = reduction switch
        {
            Reduction.None => smooth,
            Reduction.Sum => smooth.Sum(),
            _ => smooth.Sum() / (weight is null ? mask.Sum() : TargetWeights(weight, target, ignoreIndex, logp.DType).Sum()),
        };
        return nll * (1 - labelSmoothing) + smoothReduced * labelSmoothing;
    }

    /// <summary>
    /// Negative log likelihood of log-probabilities <paramref name="input"/> ([N, C] or [N, C, d1, ...]) at the
    /// class indices <paramref name="target"/> (int64, [N] or [N, d1, ...]). With <see cref="Reduction.Mean"/>
    /// the sum is divided by the total weight of the non-ignored targets, as in PyTorch.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        CheckClassInput("NllLoss", input, weight);
        return NllLoss("NllLoss", input, target, weight, ignoreIndex, reduction);
    }

    private static Tensor NllLoss(string op, Tensor input, Tensor target, Tensor? weight, long ignoreIndex, Reduction reduction)
    {
        CheckClassTarget(op, input, target, ignoreIndex);
        var mask = ValidMask(target, ignoreIndex, input.DType);
        var safeTarget = target * mask.To(DType.Int64);
        var picked = input.Gather(1, safeTarget.Unsqueeze(1)).Squeeze(1);
        var w = weight is null ? mask : TargetWeights(weight, target, ignoreIndex, input.DType);
        var losses = -(picked * w);
        return reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            _ => losses.Sum() / w.Sum(),
        };
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("MseLoss", input, target);
        var d = input - target;
        return Reduce(d * d, reduction);
    }

    /// <summary>Mean absolute error.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("L1Loss", input, target);
        return Reduce((input - target).Abs(), reduction);
    }

    /// <summary>Huber-style loss: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        CheckSameShape("SmoothL1Loss", input, target);
        if (beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), $"SmoothL1Loss: beta must be non-negative, got {beta}");
        var d = (input - target).Abs();
        if (beta == 0) return Reduce(d, reduction);
        var quadratic = d * d * (0.5 / beta);
        var linear = d - 0.5 * beta;
        return Reduce(Tensor.Where(d.Lt(beta), quadratic, linear), reduction);
    }

    /// <summary>Binary cross entropy between probabilities <paramref name="input"/> and targets in [0, 1]; logs are clamped at -100 as in PyTorch.</summary>
    public static Tensor BceLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("BceLoss", input, target);
        var logP = input.Log().Clamp(min: -100);
        var log1mP = (1 - input).Log().Clamp(min: -100);
        var losses = -(target * logP + (1 - target) * log1mP);
        if (weight is not null) losses = losses * weight;
        return Reduce(losses, reduction);
    }

    /// <summary>
    /// Binary cross entropy on logits, computed stably: (1 - t)·x + (1 + (pw - 1)·t)·log(1 + e^-x) in
    /// its max-shifted form. <paramref name="posWeight"/> weights the positive term per class.
    /// </summary>
    public static Tensor BceWithLogitsLoss(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("BceWithLogitsLoss", input, target);
        // log(1 + e^-x) = max(-x, 0) + log(e^-max(-x,0) + e^(-x-max(-x,0))), never overflowing.
        var negX = -input;
        var m = negX.Clamp(min: 0);
        var softplusNegX = m + ((-m).Exp() + (negX - m).Exp()).Log();
        Tensor losses = posWeight is null
            ? (1 - target) * input + softplusNegX
            : (1 - target) * input + (1 + (posWeight - 1) * target) * softplusNegX;
        if (weight is not null) losses = losses * weight;
        return Reduce(losses, reduction);
    }

    private static Tensor Reduce(Tensor losses, Reduction reduction) => reduction switch
    {
        Reduction.None => losses,
        Reduction.Sum => losses.Sum(),
        _ => losses.Mean(),
    };

    private static void CheckSameShape(string op, Tensor input, Tensor target)
    {
        if (input.Shape != target.Shape)
            throw new KilnShapeException($"{op}: target shape {target.Shape} must match input shape {input.Shape}");
    }

    private static void CheckClassInput(string op, Tensor input, Tensor? weight)
    {
        if (input.Rank < 2)
            throw new KilnShapeException($"{op}: input must be [N, C] or [N, C, d1, ...], got {input.Shape}");
        if (!input.DType.IsFloatingPoint())
            throw new KilnShapeException($"{op}: input must be floating point, got {input.DType.Name()}");
        if (weight is not null && (weight.Rank != 1 || weight.ShapeArray[0] != input.ShapeArray[1]))
            throw new KilnShapeException($"{op}: weight must be [{input.ShapeArray[1]}] (one per class), got {weight.Shape}");
    }

    private static void CheckClassTarget(string op, Tensor input, Tensor target, long ignoreIndex)
    {
        if (target.DType is not (DType.Int64 or DType.Int32))
            throw new KilnShapeException($"{op}: class-index targets must be int64, got {target.DType.Name()}");
        var expected = new List<int> { input.ShapeArray[0] };
        for (int i = 2; i < input.Rank; i++) expected.Add(input.ShapeArray[i]);
        if (target.Shape != Shape.Wrap([.. expected]))
            throw new KilnShapeException($"{op}: target shape {target.Shape} does not match input {input.Shape}; expected {Shape.Format([.. expected])}");
        int classes = input.ShapeArray[1];
        var values = target.To(DType.Int64).ToArray<long>();
        foreach (var v in values)
            if (v != ignoreIndex && (v < 0 || v >= classes))
                throw new KilnShapeException($"{op}: target value {v} is out of range for {classes} classes");
    }

    private static Tensor ValidMask(Tensor target, long ignoreIndex, DType dtype) => target.Ne(ignoreIndex).To(dtype);

    private static Tensor TargetWeights(Tensor weight, Tensor target, long ignoreIndex, DType dtype)
    {
        var mask = ValidMask(target, ignoreIndex, dtype);
        var safe = target.To(DType.Int64) * mask.To(DType.Int64);
        return weight.IndexSelect(0, safe.Reshape(-1)).Reshape(target.ShapeArray) * mask;
    }

    // A [C] weight viewed as [1, C, 1, ...] so it broadcasts along the class axis of a rank-r input.
    private static Tensor ClassAxis(Tensor weight, int rank)
    {
        var dims = new int[rank];
        Array.Fill(dims, 1);
        dims[1] = weight.ShapeArray[0];
        return weight.Reshape(dims);
    }
}
