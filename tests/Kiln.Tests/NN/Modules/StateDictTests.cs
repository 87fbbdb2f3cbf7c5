using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class StateDictTests
{
    private static Sequential Model() => new(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Relu(), new Flatten(), new Linear(8, 3));

    [Fact]
    public void StateDict_has_pytorch_keys_in_pytorch_order()
    {
        // Keys of the same model in PyTorch 1.13: list(nn.Sequential(nn.Conv2d(1,2,3), nn.BatchNorm2d(2), nn.ReLU(),
        // nn.Flatten(), nn.Linear(8,3)).state_dict().keys()).
        Assert.Equal(
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"],
            Model().StateDict().Keys);
    }

    [Fact]
    public void StateDict_round_trip_copies_values_into_another_model()
    {
        var source = Model();
        using (Engine.NoGrad()) ((BatchNorm2d)source[1]).RunningMean!.AddInPlace(0.5);
        ((BatchNorm2d)source[1]).NumBatchesTracked!.AddInPlace(7);
        var target = Model();
        var weightBefore = ((Linear)target[4]).Weight;
        var result = target.LoadStateDict(source.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Same(weightBefore, ((Linear)target[4]).Weight);
        var expected = source.StateDict();
        foreach (var (name, value) in target.StateDict())
            Assert.Equal(TestTensors.Values(expected[name]), TestTensors.Values(value));
        Assert.Equal(7L, ((BatchNorm2d)target[1]).NumBatchesTracked!.Item<long>());
        var x = Tensor.Randn([2, 1, 4, 4]);
        source.Eval();
        target.Eval();
        Assert.Equal(source.Call(x).ToArray<float>(), target.Call(x).ToArray<float>());
    }

    [Fact]
    public void StateDict_values_share_memory_with_the_model_and_disposing_them_is_harmless()
    {
        var lin = new Linear(2, 2);
        var dict = lin.StateDict();
        using (Engine.NoGrad()) dict["bias"].FillInPlace(3);
        Assert.Equal([3f, 3f], lin.Bias!.ToArray<float>());
        foreach (var t in dict.Values) t.Dispose();
        Assert.False(lin.Weight.IsDisposed);
        Assert.Equal(2, lin.Call(Tensor.Ones([1, 2])).NumElements);
    }

    [Fact]
    public void LoadStateDict_converts_dtypes()
    {
        var lin = new Linear(2, 1);
        var dict = new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.From<double>([0.25, -0.5], 1, 2),
            ["bias"] = Tensor.From<long>([2], 1),
        };
        lin.LoadStateDict(dict);
        Assert.Equal(DType.Float32, lin.Weight.DType);
        Assert.Equal([0.25f, -0.5f], lin.Weight.ToArray<float>());
        Assert.Equal([2f], lin.Bias!.ToArray<float>());
    }

    [Fact]
    public void LoadStateDict_lists_missing_unexpected_and_misshaped_keys_and_changes_nothing()
    {
        var model = Model();
        var before = ((Linear)model[4]).Weight.ToArray<float>();
        var dict = Model().StateDict();
        dict.Remove("0.bias");
        dict.Remove("1.running_var");
        dict["5.weight"] = Tensor.Zeros([1]);
        dict["4.weight"] = Tensor.Zeros([8, 3]);
        dict["0.weight"] = Tensor.Zeros([2, 1, 3, 3]);
        var e = Assert.Throws<KilnException>(() => model.LoadStateDict(dict));
        Assert.Contains("missing keys: \"0.bias\", \"1.running_var\"", e.Message);
        Assert.Contains("unexpected keys: \"5.weight\"", e.Message);
        Assert.Contains("size mismatch for 4.weight: the state dict has shape [8, 3], the model has [3, 8]", e.Message);
        Assert.Equal(before, ((Linear)model[4]).Weight.ToArray<float>());
        Assert.NotEqual(0f, ((Conv2d)model[0]).Weight.ToArray<float>().Select(Math.Abs).Max());
    }

    [Fact]
    public void LoadStateDict_not_strict_reports_missing_and_unexpected_keys_but_still_refuses_shape_mismatch()
    {
        var lin = new Linear(3, 2);
        var result = lin.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensor.Ones([2, 3]), ["extra"] = Tensor.Ones([1]) }, strict: false);
        Assert.Equal(["bias"], result.MissingKeys);
        Assert.Equal(["extra"], result.UnexpectedKeys);
        Assert.Equal(Enumerable.Repeat(1f, 6), lin.Weight.ToArray<float>());
        var e = Assert.Throws<KilnException>(() => lin.LoadStateDict(new Dictionary<string, Tensor> { ["bias"] = Tensor.Ones([3]) }, strict: false));
        Assert.Contains("size mismatch for bias: the state dict has shape [3], the model has [2]", e.Message);
        Assert.DoesNotContain("missing", e.Message);
    }

    [Fact]
    public void LoadStateDict_missing_keys_alone_throw_when_strict()
    {
        var e = Assert.Throws<KilnException>(() => new Linear(2, 2).LoadStateDict(new Dictionary<string, Tensor>()));
        Assert.Contains("Linear", e.Message);
        Assert.Contains("missing keys: \"weight\", \"bias\"", e.Message);
    }

    [Fact]
    public void LoadStateDict_into_tied_weights_writes_the_shared_tensor()
    {
        var shared = new Linear(2, 2);
        var seq = new Sequential(shared, shared);
        var dict = seq.StateDict().ToDictionary(kv => kv.Key, kv => Tensor.FullLike(kv.Value, 4));
        seq.LoadStateDict(dict);
        Assert.All(shared.Weight.ToArray<float>(), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void LoadStateDict_of_its_own_state_dict_keeps_values()
    {
        var lin = new Linear(3, 3);
        var before = lin.Weight.ToArray<float>();
        lin.LoadStateDict(lin.StateDict());
        Assert.Equal(before, lin.Weight.ToArray<float>());
    }
}
