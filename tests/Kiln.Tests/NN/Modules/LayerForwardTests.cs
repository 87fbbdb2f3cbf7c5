using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class LayerForwardTests
{
    private static void AssertClose(double[] expected, Tensor actual, double tolerance = 1e-5)
        => TestTensors.AssertClose(expected, TestTensors.Values(actual), tolerance, tolerance, "layer output");

    [Fact]
    public void Linear_forward_is_x_times_weight_transposed_plus_bias()
    {
        var lin = new Linear(3, 2);
        var x = Tensor.Randn([4, 3]);
        var w = lin.Weight.ToArray<float>();
        var b = lin.Bias!.ToArray<float>();
        var xv = x.ToArray<float>();
        var expected = new double[8];
        for (int n = 0; n < 4; n++)
            for (int o = 0; o < 2; o++)
            {
                double s = b[o];
                for (int i = 0; i < 3; i++) s += (double)xv[n * 3 + i] * w[o * 3 + i];
                expected[n * 2 + o] = s;
            }
        AssertClose(expected, lin.Call(x));
        Assert.Equal([2, 5, 2], new Linear(3, 2, bias: false).Call(Tensor.Randn([2, 5, 3])).Shape.ToArray());
    }

    [Fact]
    public void Convolution_and_pooling_layers_match_their_functional_forms()
    {
        var x = Tensor.Randn([2, 4, 9, 8]);
        var conv = new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2);
        AssertClose(TestTensors.Values(F.Conv2d(x, conv.Weight, conv.Bias, (2, 1), (1, 0), (1, 2), 2)), conv.Call(x));
        var same = new Conv2d(4, 3, 4, padding: Padding.Same, bias: false);
        Assert.Equal([2, 3, 9, 8], same.Call(x).Shape.ToArray());
        Assert.Null(same.Bias);

        var x1 = Tensor.Randn([3, 4, 11]);
        var conv1 = new Conv1d(4, 2, 3, stride: 2, padding: 1, dilation: 2, groups: 2);
        AssertClose(TestTensors.Values(F.Conv1d(x1, conv1.Weight, conv1.Bias, 2, 1, 2, 2)), conv1.Call(x1));

        AssertClose(TestTensors.Values(F.MaxPool2d(x, 3, 2, 1, 2, true)), new MaxPool2d(3, stride: 2, padding: 1, dilation: 2, ceilMode: true).Call(x));
        AssertClose(TestTensors.Values(F.MaxPool2d(x, 2)), new MaxPool2d(2).Call(x));
        AssertClose(TestTensors.Values(F.AvgPool2d(x, 3, 2, 1, false, false)), new AvgPool2d(3, stride: 2, padding: 1, countIncludePad: false).Call(x));
        AssertClose(TestTensors.Values(F.AdaptiveAvgPool2d(x, (2, 3))), new AdaptiveAvgPool2d((2, 3)).Call(x));
    }

    [Fact]
    public void Normalization_layers_match_their_functional_forms()
    {
        var x = Tensor.Randn([3, 4, 5]);
        var ln = new LayerNorm([4, 5]);
        using (Engine.NoGrad())
        {
            ln.Weight!.MulInPlace(Tensor.Randn([4, 5]));
            ln.Bias!.AddInPlace(Tensor.Randn([4, 5]));
        }
        AssertClose(TestTensors.Values(F.LayerNorm(x, [4, 5], ln.Weight, ln.Bias)), ln.Call(x));
        AssertClose(TestTensors.Values(F.LayerNorm(x, [5])), new LayerNorm(5, elementwiseAffine: false).Call(x));
        var gn = new GroupNorm(2, 4, eps: 1e-3);
        using (Engine.NoGrad()) gn.Weight!.FillInPlace(2);
        AssertClose(TestTensors.Values(F.GroupNorm(x, 2, gn.Weight, gn.Bias, 1e-3)), gn.Call(x));
        Assert.Equal(Enumerable.Repeat(1f, 20), new LayerNorm([4, 5]).Weight!.ToArray<float>());
        Assert.Equal(Enumerable.Repeat(0f, 20), new LayerNorm([4, 5]).Bias!.ToArray<float>());
    }

    [Fact]
    public void Activation_layers_match_their_functional_forms()
    {
        var x = Tensor.Randn([3, 7]) * 3;
        var cases = new (Module Layer, Tensor Expected)[]
        {
            (new Relu(), F.Relu(x)),
            (new LeakyRelu(0.2), F.LeakyRelu(x, 0.2)),
            (new Elu(0.5), F.Elu(x, 0.5)),
            (new Gelu(), F.Gelu(x)),
            (new Gelu(GeluApproximation.Tanh), F.Gelu(x, GeluApproximation.Tanh)),
            (new Sigmoid(), F.Sigmoid(x)),
            (new Tanh(), F.Tanh(x)),
            (new Silu(), F.Silu(x)),
            (new Softplus(2, 1), F.Softplus(x, 2, 1)),
            (new Softmax(0), F.Softmax(x, 0)),
            (new LogSoftmax(-1), F.LogSoftmax(x, -1)),
            (new Identity(), x),
        };
        foreach (var (layer, expected) in cases) AssertClose(TestTensors.Values(expected), layer.Call(x), 0);
        var relu = new Relu().Call(Tensor.From<float>([-1, 0, 2]));
        Assert.Equal([0f, 0f, 2f], relu.ToArray<float>());
    }

    [Fact]
    public void Flatten_merges_the_given_dimensions()
    {
        var x = Tensor.Arange(0.0, 24.0).Reshape(2, 3, 4);
        Assert.Equal([2, 12], new Flatten().Call(x).Shape.ToArray());
        Assert.Equal([24], new Flatten(0).Call(x).Shape.ToArray());
        Assert.Equal([6, 4], new Flatten(0, 1).Call(x).Shape.ToArray());
        Assert.Equal(x.ToArray<float>(), new Flatten().Call(x).ToArray<float>());
    }

    [Fact]
    public void Embedding_looks_up_rows_and_keeps_the_padding_row_out_of_the_gradient()
    {
        var emb = new Embedding(5, 3, paddingIdx: 1);
        Assert.Equal([0f, 0f, 0f], emb.Weight.Select(0, 1).ToArray<float>());
        using (Engine.NoGrad()) emb.Weight.Select(0, 1).FillInPlace(7);
        var table = emb.Weight.ToArray2D<float>();
        var idx = Tensor.From<long>([4, 1, 1, 0, 4, 2], 2, 3);
        var y = emb.Call(idx);
        Assert.Equal([2, 3, 3], y.Shape.ToArray());
        var yv = y.ToArray<float>();
        long[] flat = [4, 1, 1, 0, 4, 2];
        for (int i = 0; i < 6; i++)
            for (int d = 0; d < 3; d++) Assert.Equal(table[flat[i], d], yv[i * 3 + d]);
        y.Sum().Backward();
        var g = emb.Weight.Grad!.ToArray2D<float>();
        float[] counts = [1, 0, 1, 0, 2];
        for (int r = 0; r < 5; r++)
            for (int d = 0; d < 3; d++) Assert.Equal(counts[r], g[r, d]);
    }

    [Fact]
    public void Dropout_drops_in_training_and_is_the_identity_in_evaluation()
    {
        var drop = new Dropout(0.25);
        var x = Tensor.Ones([4000]);
        var y = drop.Call(x).ToArray<float>();
        int zeros = y.Count(v => v == 0);
        Assert.All(y, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.75f) < 1e-6));
        Assert.InRange(zeros, 850, 1150);
        drop.Eval();
        Assert.Same(x, drop.Call(x));
        Engine.ManualSeed(3);
        drop.Train();
        var first = drop.Call(x).ToArray<float>();
        Engine.ManualSeed(3);
        Assert.Equal(first, drop.Call(x).ToArray<float>());
    }

    [Fact]
    public void Sequential_runs_its_modules_in_order()
    {
        var a = new Linear(3, 4);
        var b = new Linear(4, 2);
        var seq = new Sequential(a, new Relu(), b);
        var x = Tensor.Randn([5, 3]);
        AssertClose(TestTensors.Values(b.Call(a.Call(x).Relu())), seq.Call(x), 0);
        Assert.Same(x, new Sequential().Call(x));
    }
}
