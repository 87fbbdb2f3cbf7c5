using System.Text;
using System.Text.RegularExpressions;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>Functional Models (inputs, layer calls, shared layers, merge layers, nested models) and lazy layers in saved models.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class SavedFunctionalModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-functional-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    /// <summary>Two inputs, a shared layer called twice, a nested functional model, a concatenation and two outputs.</summary>
    internal static Model TwoTowers()
    {
        var left = Model.Input([6], DType.Float32, "left");
        var right = Model.Input([6], DType.Float32, "right");
        var shared = new Linear(6, 5);
        var innerInput = Model.Input(5);
        var inner = new Model(innerInput, new Tanh().Call(new Linear(5, 5).Call(innerInput)), name: "tower");
        var a = inner.Call(shared.Call(left));
        var b = new Relu().Call(shared.Call(right), "right_act");
        var joined = new Concatenate().Call(a, b);
        var head = new Linear(10, 3).Call(new Dropout(0.1).Call(joined), "head");
        return new Model([left, right], [head, new Add().Call(a, b)], name: "two_towers");
    }

    [Fact]
    public void A_functional_model_round_trips_with_its_graph_and_predicts_the_same_bits()
    {
        Engine.ManualSeed(8);
        var model = TwoTowers();
        using var left = Tensor.Randn([4, 6]);
        using var right = Tensor.Randn([4, 6]);
        var path = PathOf("towers.kilnmodel");

        model.Save(path);
        var loaded = Assert.IsType<Model>(SavedModel.Load(path));

        Assert.Equal(model.ToString(), loaded.ToString());
        Assert.Equal("two_towers", loaded.Name);
        Assert.Equal(model.Nodes.Select(n => (n.Name, n.Call, string.Join(",", n.Inputs), string.Join(",", n.Shape))),
            loaded.Nodes.Select(n => (n.Name, n.Call, string.Join(",", n.Inputs), string.Join(",", n.Shape))));
        Assert.Same(loaded.Nodes[2].Layer, loaded.Nodes[4].Layer);
        model.Eval();
        loaded.Eval();
        using (Engine.NoGrad())
        {
            var expected = model.Forward([left, right]);
            var actual = loaded.Forward([left, right]);
            for (int o = 0; o < 2; o++) Assert.Equal(SavedModelTests.Bits(expected[o]), SavedModelTests.Bits(actual[o]));
        }
        loaded.Save(PathOf("again.kilnmodel"));
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(PathOf("again.kilnmodel")));
    }

    [Fact]
    public void A_lazy_layer_not_yet_built_is_refused_with_advice_to_build_it()
    {
        var model = new Sequential(new Linear(4), new Relu());
        var e = Assert.Throws<ArgumentException>(() => model.Save(PathOf("lazy.kilnmodel")));
        Assert.Contains("model.0 (Linear)", e.Message);
        Assert.Contains("Build", e.Message);
    }

    [Fact]
    public void A_built_lazy_layer_loads_as_the_same_layer()
    {
        var model = new Sequential(new Linear(4), new Relu(), new BatchNorm1d());
        model.Build(7);
        var path = PathOf("built.kilnmodel");

        model.Save(path);
        var loaded = (Sequential)SavedModel.Load(path);

        Assert.Equal(model.ToString(), loaded.ToString());
        Assert.Equal(7, ((Linear)loaded[0]).InFeatures);
        Assert.Equal(model.StateDict()["0.weight"].ToArray<float>(), loaded.StateDict()["0.weight"].ToArray<float>());
    }

    private void AssertGraphRefused(Func<string, string> edit, params string[] expected)
    {
        var path = PathOf("graph.kilnmodel");
        TwoTowers().Save(path);
        var entries = SavedModelEntries.Read(File.ReadAllBytes(path));
        var config = Encoding.UTF8.GetString(entries[0].Bytes);
        var edited = edit(config);
        Assert.NotEqual(config, edited);
        entries[0] = (entries[0].Name, Encoding.UTF8.GetBytes(edited));
        File.WriteAllBytes(path, SavedModelEntries.Write(entries));
        var e = Assert.Throws<KilnFormatException>(() => SavedModel.Load(path));
        foreach (var part in expected) Assert.Contains(part, e.Message);
    }

    [Fact]
    public void A_call_on_a_later_node_is_refused()
        => AssertGraphRefused(c => Edit(c, @"(""layer"": ""right_act"",\s*""inputs"": \[\s*)4", "${1}9"), "call 3 (node 5)", "\"inputs\" is 9");

    [Fact]
    public void A_call_of_an_unknown_layer_is_refused()
        => AssertGraphRefused(c => c.Replace("\"layer\": \"head\"", "\"layer\": \"tail\""), "\"layer\" is \"tail\", which is not one of the model's children");

    [Fact]
    public void A_call_shape_without_the_batch_dimension_is_refused()
        => AssertGraphRefused(c => Edit(c, @"(""layer"": ""right_act"",\s*""inputs"": \[\s*4\s*\],\s*""shape"": \[\s*)-1", "${1}4"), "\"shape\" must start with -1");

    [Fact]
    public void A_merge_layer_called_on_nothing_is_refused()
        => AssertGraphRefused(c => Edit(c, @"(""layer"": ""concatenate"",\s*""inputs"": \[)[\s\d,]*\]", "$1]"), "\"inputs\" lists 0 nodes");

    [Fact]
    public void An_output_index_out_of_range_is_refused()
        => AssertGraphRefused(c => Edit(c, @"(""outputs"": \[\s*)8,", "${1}80,"), "\"outputs\" is 80");

    [Fact]
    public void A_call_that_leads_to_no_output_is_refused()
        => AssertGraphRefused(c => Edit(c, @"(""outputs"": \[\s*8,\s*)9", "${1}8"), "call 7 (of \"add\") leads to no output");

    private static string Edit(string text, string pattern, string replacement) => Regex.Replace(text, pattern, replacement);
}
