using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class ModuleBehaviorTests
{
    private sealed class Mlp : Module
    {
        private readonly Linear _fc1 = new(784, 256);
        private readonly Linear _fc2 = new(256, 10);

        public Linear Fc2 => _fc2;

        // A bug that skips a layer: the second one gets the wrong number of features.
        public bool SkipFirst { get; set; }

        public override Tensor Forward(Tensor input) => _fc2.Call(SkipFirst ? input : _fc1.Call(input).Relu());
    }

    [Fact]
    public void Module_shape_error_names_the_module_path_and_layer()
    {
        var model = new Mlp { SkipFirst = true };
        var e = Assert.Throws<KilnShapeException>(() => model.Call(Tensor.Zeros([32, 128])));
        Assert.Equal("model.fc2 (Linear 256->10): input has 128 features, expected 256", e.Message);
        Assert.Equal([32, 10], new Mlp().Call(Tensor.Zeros([32, 784])).Shape.ToArray());
    }

    [Fact]
    public void Module_path_is_known_inside_containers_even_when_the_root_is_run_through_Forward()
    {
        var model = new Sequential(new Conv2d(1, 4, 3), new Relu(), new Sequential(new Flatten(), new Linear(100, 10)));
        var e = Assert.Throws<KilnShapeException>(() => model.Forward(Tensor.Zeros([2, 1, 8, 8])));
        Assert.Equal("model.2.1 (Linear 100->10): input has 144 features, expected 100", e.Message);
        var conv = Assert.Throws<KilnShapeException>(() => model.Call(Tensor.Zeros([2, 3, 8, 8])));
        Assert.Equal("model.0 (Conv2d 1->4, 3x3): input has 3 channels, expected 1 (input [2, 3, 8, 8])", conv.Message);
    }

    private sealed class Tower : Module
    {
        private readonly List<Linear> _layers = [new Linear(4, 4), new Linear(5, 2)];

        public override Tensor Forward(Tensor input) => _layers.Aggregate(input, (x, layer) => layer.Call(x));
    }

    [Fact]
    public void Module_path_goes_through_list_fields()
    {
        var e = Assert.Throws<KilnShapeException>(() => new Tower().Call(Tensor.Zeros([3, 4])));
        Assert.Equal("model.layers.1 (Linear 5->2): input has 4 features, expected 5", e.Message);
    }

    [Fact]
    public void Module_wraps_an_op_error_with_the_innermost_module_path_once()
    {
        var model = new Sequential(new Sequential(new MaxPool2d(5)));
        var e = Assert.Throws<KilnShapeException>(() => model.Call(Tensor.Zeros([1, 1, 3, 3])));
        Assert.StartsWith("model.0.0 (MaxPool2d): MaxPool2d", e.Message);
        Assert.IsType<KilnShapeException>(e.InnerException);
        Assert.DoesNotContain("model.0 (", e.Message);
    }

    [Fact]
    public void Containers_without_forward_throw_naming_their_type()
    {
        var list = new ModuleList([new Linear(2, 2)]);
        Assert.Contains("ModuleList has no Forward", Assert.Throws<KilnException>(() => list.Call(Tensor.Zeros([1, 2]))).Message);
        var owner = new Sequential(new ModuleDict { ["a"] = new Relu() });
        var e = Assert.Throws<KilnException>(() => owner.Call(Tensor.Zeros([1])));
        Assert.Contains("model.0 (ModuleDict): ModuleDict has no Forward", e.Message);
    }

    [Fact]
    public void Forward_hooks_see_and_may_replace_input_and_output_until_removed()
    {
        var lin = new Linear(2, 2);
        var model = new Sequential(lin);
        var seen = new List<string>();
        using var pre = lin.RegisterForwardPreHook((m, x) => seen.Add($"pre {((Linear)m).InFeatures} {x.Shape}"));
        var post = lin.RegisterForwardHook((m, x, y) => seen.Add($"post {x.Shape} {y.Shape}"));
        var x = Tensor.Ones([3, 2]);
        model.Call(x);
        Assert.Equal(["pre 2 [3, 2]", "post [3, 2] [3, 2]"], seen);

        var doubled = lin.RegisterForwardPreHook((_, input) => input * 2);
        var zeroed = model.RegisterForwardHook((_, _, output) => output * 0 + 7);
        var expected = F.Linear(x * 2, lin.Weight, lin.Bias).ToArray<float>();
        Assert.Equal(expected, lin.Call(x).ToArray<float>());
        Assert.All(model.Call(x).ToArray<float>(), v => Assert.Equal(7f, v));

        doubled.Dispose();
        zeroed.Dispose();
        post.Dispose();
        seen.Clear();
        Assert.Equal(F.Linear(x, lin.Weight, lin.Bias).ToArray<float>(), model.Call(x).ToArray<float>());
        Assert.Equal(["pre 2 [3, 2]"], seen);
    }

    [Fact]
    public void To_float64_converts_parameters_and_buffers_in_place_keeping_their_identity()
    {
        var model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
        var parameters = model.Parameters().ToList();
        var buffers = model.Buffers().ToList();
        var values = parameters.Select(p => p.ToArray<float>()).ToList();
        model.Call(Tensor.Randn([4, 3])).Sum().Backward();
        Assert.Same(model, model.To(DType.Float64));
        Assert.Equal(parameters, model.Parameters());
        Assert.Equal(buffers, model.Buffers());
        for (int i = 0; i < parameters.Count; i++)
        {
            Assert.Equal(DType.Float64, parameters[i].DType);
            Assert.True(parameters[i].RequiresGrad);
            Assert.Equal(DType.Float64, parameters[i].Grad!.DType);
            Assert.Equal(values[i].Select(v => (double)v), parameters[i].ToArray<double>());
        }
        var bn = (BatchNorm1d)model[1];
        Assert.Equal(DType.Float64, bn.RunningMean!.DType);
        Assert.Equal(DType.Int64, bn.NumBatchesTracked!.DType);
        var y = model.Call(Tensor.Randn([4, 3], DType.Float64));
        Assert.Equal(DType.Float64, y.DType);
        y.Sum().Backward();
        model.To(DType.Float32);
        Assert.Equal(DType.Float32, parameters[0].DType);
        Assert.Throws<ArgumentException>(() => model.To(DType.Int32));
    }

    [Fact]
    public void ZeroGrad_clears_or_zeroes_every_gradient()
    {
        var model = new Sequential(new Linear(3, 2), new Linear(2, 1));
        model.Call(Tensor.Randn([4, 3])).Sum().Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        model.ZeroGrad(setToNone: false);
        Assert.All(model.Parameters(), p => Assert.All(p.Grad!.ToArray<float>(), v => Assert.Equal(0f, v)));
        model.Call(Tensor.Randn([4, 3])).Sum().Backward();
        model.ZeroGrad();
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void Model_built_inside_a_scope_survives_it()
    {
        Sequential model;
        using (Engine.Scope())
        {
            model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(8, 2), new Identity());
            model.Call(Tensor.Randn([2, 1, 4, 4]));
        }
        Assert.All(model.Parameters().Concat(model.Buffers()), t => Assert.False(t.IsDisposed));
        using (Engine.Scope())
        {
            var loss = model.Call(Tensor.Randn([2, 1, 4, 4])).Sum();
            loss.Backward();
        }
        Assert.All(model.Parameters(), p => Assert.False(p.Grad!.IsDisposed));
    }

    private sealed class Custom : Module
    {
        public Tensor W { get; }
        public Tensor Steps { get; }

        public Custom()
        {
            W = Tensor.Ones([2]);
            W.RequiresGrad = true;
            Steps = Tensor.Zeros([1]);
        }

        public override Tensor Forward(Tensor input) => input * W;
    }

    [Fact]
    public void Custom_module_tensors_leave_the_scope_once_the_module_is_walked()
    {
        Custom m;
        using (Engine.Scope())
        {
            m = new Custom();
            Assert.Equal(2, m.ParameterCount);
        }
        Assert.False(m.W.IsDisposed);
        Assert.False(m.Steps.IsDisposed);
    }

    [Fact]
    public void Eval_changes_what_dropout_and_batch_norm_do()
    {
        var model = new Sequential(new BatchNorm1d(4), new Dropout(0.5));
        var x = Tensor.Randn([8, 4]) * 3 + 1;
        var trained = model.Call(x);
        Assert.Contains(0f, trained.ToArray<float>());
        model.Eval();
        var bn = (BatchNorm1d)model[0];
        var expected = F.BatchNorm(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training: false);
        Assert.Equal(expected.ToArray<float>(), model.Call(x).ToArray<float>());
    }

    [Fact]
    public void Sequential_model_trains_with_plain_gradient_descent()
    {
        Engine.ManualSeed(7);
        var rule = Tensor.Randn([4, 3]);
        var model = new Sequential(new Linear(4, 16), new Relu(), new Linear(16, 3));
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = Engine.Scope();
            var x = Tensor.Randn([32, 4]);
            var y = x.MatMul(rule).ArgMax(1);
            var loss = F.CrossEntropy(model.Call(x), y);
            model.ZeroGrad();
            loss.Backward();
            using (Engine.NoGrad())
                foreach (var p in model.Parameters()) p.SubInPlace(p.Grad! * 0.5);
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < 0.4 * first, $"loss went from {first} to {last}");
        Assert.All(model.Parameters(), p => Assert.False(p.IsDisposed));
    }
}
