using Kiln.Ops;

namespace Kiln.Tests.Autograd;

/// <summary>The walk itself, driven by a test-only op whose backward returns no gradient.</summary>
public sealed class BackwardEngineTests
{
    /// <summary>Identity forward; backward gives no gradient at all (as a backward may for a constant input). Not registered.</summary>
    private sealed class NoGradientOp : OpDef<NoAttributes>
    {
        internal static readonly NoGradientOp Instance = new();
        public override string Name => "TestNoGradient";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;
        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a) => inputs[0];
        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output) => Dispatcher.CopyInto(inputs[0], output);
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [null];
        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a) => inputs[0];
    }

    private static Tensor NoGradient(Tensor x) => Dispatcher.Call(NoGradientOp.Instance, NoAttributes.Instance, x);

    [Fact]
    public void A_null_gradient_on_one_path_does_not_stop_the_other_paths()
    {
        var x = Tensor.From<double>([1, 2]);
        x.RequiresGrad = true;
        var y = x * 3.0;
        var loss = (NoGradient(y) + y).Sum();
        loss.Backward();
        Assert.Equal([3.0, 3], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void A_tensor_reached_only_through_a_null_gradient_gets_none()
    {
        var x = Tensor.From<double>([1, 2]);
        x.RequiresGrad = true;
        var w = Tensor.From<double>([5, 6]);
        w.RequiresGrad = true;
        var loss = (NoGradient(x * 2.0) + w).Sum();
        loss.Backward();
        Assert.Null(x.Grad);
        Assert.Equal([1.0, 1], w.Grad!.ToArray<double>());
        var grads = Engine.Grad([(NoGradient(x * 2.0) + w).Sum()], [x, w], allowUnused: true);
        Assert.Null(grads[0]);
    }

    [Fact]
    public void Gradients_meeting_at_a_node_are_summed_before_it_runs()
    {
        // y feeds three consumers; its node must run once, with the summed gradient.
        var x = Tensor.From<double>([2]);
        x.RequiresGrad = true;
        var y = x * x;
        var seen = new List<double>();
        y.RegisterHook(g => { seen.Add(g.Item()); return null; });
        (y + y * 2.0 + y.Exp()).Sum().Backward();
        Assert.Single(seen);
        Assert.Equal(3 + Math.Exp(4), seen[0], 12);
        Assert.Equal(2 * 2 * (3 + Math.Exp(4)), x.Grad!.Item(), 9);
    }
}
