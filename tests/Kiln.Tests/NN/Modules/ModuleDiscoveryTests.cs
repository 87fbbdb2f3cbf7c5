using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class ModuleDiscoveryTests
{
    private sealed class Block : Module
    {
        public Linear Fc1 { get; } = new(4, 3);
        private readonly Relu _act = new();
        public BatchNorm1d Norm = new(3);

        public override Tensor Forward(Tensor input) => Norm.Call(_act.Call(Fc1.Call(input)));
    }

    private sealed class Net : Module
    {
        private readonly Tensor _scale;
        public Tensor RunningTotal { get; } = Tensor.Zeros([2]);
        [ExcludeFromState] private readonly Tensor _cache = Tensor.Ones([5]);
        public Block Encoder { get; } = new();
        private readonly List<Linear> _heads = [new Linear(3, 2), new Linear(3, 2, bias: false)];
        private readonly Dictionary<string, Module> _extras = new() { ["drop"] = new Dropout(), ["out"] = new Linear(2, 1) };

        public Net()
        {
            _scale = Tensor.Ones([3]);
            _scale.RequiresGrad = true;
        }

        public Tensor Cache => _cache;
    }

    private static string[] Names<T>(IEnumerable<(string Name, T Value)> items) => items.Select(i => i.Name).ToArray();

    [Fact]
    public void Module_names_members_in_declaration_order_with_pytorch_style_paths()
    {
        var net = new Net();
        Assert.Equal(
            ["scale", "encoder.fc1.weight", "encoder.fc1.bias", "encoder.norm.weight", "encoder.norm.bias",
             "heads.0.weight", "heads.0.bias", "heads.1.weight", "extras.out.weight", "extras.out.bias"],
            Names(net.NamedParameters()));
        Assert.Equal(["running_total", "encoder.norm.running_mean", "encoder.norm.running_var", "encoder.norm.num_batches_tracked"],
            Names(net.NamedBuffers()));
        Assert.Equal(["encoder", "heads", "extras"], Names(net.NamedChildren()));
        Assert.Equal(["", "encoder", "encoder.fc1", "encoder.act", "encoder.norm", "heads", "heads.0", "heads.1", "extras", "extras.drop", "extras.out"],
            Names(net.NamedModules()));
        Assert.IsType<ModuleList>(net.NamedChildren().Single(c => c.Name == "heads").Module);
        Assert.IsType<ModuleDict>(net.NamedChildren().Single(c => c.Name == "extras").Module);
    }

    [Fact]
    public void Module_excluded_field_is_neither_parameter_nor_buffer()
    {
        var net = new Net();
        Assert.DoesNotContain(net.Parameters().Concat(net.Buffers()), t => ReferenceEquals(t, net.Cache));
        Assert.DoesNotContain("cache", net.StateDict().Keys);
    }

    [Theory]
    [InlineData("Weight", "weight")]
    [InlineData("RunningMean", "running_mean")]
    [InlineData("NumBatchesTracked", "num_batches_tracked")]
    [InlineData("_fc1", "fc1")]
    [InlineData("__hidden", "hidden")]
    [InlineData("conv2", "conv2")]
    [InlineData("Conv2D", "conv2d")]
    [InlineData("HTTPLayer", "http_layer")]
    [InlineData("Layer1Norm", "layer1_norm")]
    [InlineData("already_snake", "already_snake")]
    public void Module_member_names_are_snake_case_without_leading_underscores(string field, string expected)
        => Assert.Equal(expected, Module.SnakeCase(field));

    private sealed class Tied : Module
    {
        public Linear A { get; } = new(3, 3);
        public Linear B { get; } = new(3, 3);
        public Tensor Shared { get; }
        public Tensor SharedAgain { get; }
        public Linear AAgain { get; }

        public Tied()
        {
            Shared = Tensor.Zeros([2]);
            Shared.RequiresGrad = true;
            SharedAgain = Shared;
            AAgain = A;
        }
    }

    [Fact]
    public void Module_shared_parameters_and_modules_are_listed_once_but_saved_under_each_name()
    {
        var m = new Tied();
        Assert.Equal(["shared", "a.weight", "a.bias", "b.weight", "b.bias"], Names(m.NamedParameters()));
        Assert.Equal(2 * (9 + 3) + 2, m.ParameterCount);
        Assert.Equal(["", "a", "b"], Names(m.NamedModules()));
        Assert.Equal(["a", "b"], Names(m.NamedChildren()));
        Assert.Equal(["shared", "shared_again", "a.weight", "a.bias", "b.weight", "b.bias", "a_again.weight", "a_again.bias"], m.StateDict().Keys);
    }

    [Fact]
    public void Sequential_containing_one_layer_twice_counts_its_parameters_once()
    {
        var shared = new Linear(4, 4);
        var seq = new Sequential(shared, new Relu(), shared);
        Assert.Equal(["0.weight", "0.bias"], Names(seq.NamedParameters()));
        Assert.Equal(20, seq.ParameterCount);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.StateDict().Keys);
    }

    [Fact]
    public void Module_frozen_parameter_stays_a_parameter_and_leaves_the_trainable_count()
    {
        var lin = new Linear(5, 2);
        Assert.Equal(12, lin.TrainableParameterCount);
        lin.Weight.RequiresGrad = false;
        Assert.Equal(["weight", "bias"], Names(lin.NamedParameters()));
        Assert.Empty(lin.Buffers());
        Assert.Equal(12, lin.ParameterCount);
        Assert.Equal(2, lin.TrainableParameterCount);
    }

    private sealed class Registered : Module
    {
        public Tensor W;
        public Registered()
        {
            W = RegisterParameter("w", Tensor.Ones([2]));
            RegisterBuffer("steps", Tensor.Zeros([1]));
            RegisterBuffer("scratch", Tensor.Zeros([3]), persistent: false);
            RegisterModule("head", new Linear(2, 1));
        }
    }

    [Fact]
    public void Module_explicit_registrations_are_members_and_a_field_holding_one_adds_nothing()
    {
        var m = new Registered();
        Assert.True(m.W.RequiresGrad);
        Assert.Equal(["w", "head.weight", "head.bias"], Names(m.NamedParameters()));
        Assert.Equal(["steps", "scratch"], Names(m.NamedBuffers()));
        Assert.Equal(["w", "steps", "head.weight", "head.bias"], m.StateDict().Keys);
    }

    [Fact]
    public void Module_registration_rejects_bad_names_and_non_leaf_parameters()
    {
        var m = new Sequential();
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => m.RegisterParameter("a.b", Tensor.Ones([1]))).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => m.RegisterBuffer("", Tensor.Ones([1]))).ParamName);
        var leaf = Tensor.Ones([2]);
        leaf.RequiresGrad = true;
        Assert.Equal("parameter", Assert.Throws<ArgumentException>(() => m.RegisterParameter("p", leaf * 2)).ParamName);
        Assert.Equal("parameter", Assert.Throws<ArgumentException>(() => m.RegisterParameter("p", Tensor.Zeros([2], DType.Int64))).ParamName);
    }

    private sealed class Clash : Module
    {
        public Tensor Weight = Tensor.Zeros([1]);
        private readonly Tensor _weight = Tensor.Zeros([1]);
        public Tensor Other => _weight;
    }

    [Fact]
    public void Module_two_members_with_one_name_throw_naming_it()
    {
        var e = Assert.Throws<KilnException>(() => new Clash().StateDict());
        Assert.Contains("\"weight\"", e.Message);
        Assert.Contains("Clash", e.Message);
    }

    [Fact]
    public void Module_children_modules_and_apply_follow_pytorch_order()
    {
        var inner = new Sequential(new Linear(2, 2), new Relu());
        var model = new Sequential(inner, new Linear(2, 1));
        Assert.Equal([inner, model[1]], model.Children());
        Assert.Equal(["Sequential", "Sequential", "Linear", "Relu", "Linear"], model.Modules().Select(m => m.GetType().Name));
        var visited = new List<string>();
        model.Apply(m => visited.Add(m.GetType().Name));
        Assert.Equal(["Linear", "Relu", "Sequential", "Linear", "Sequential"], visited);
    }

    [Fact]
    public void Module_list_field_follows_later_changes_of_the_list()
    {
        var owner = new ListOwner();
        Assert.Equal(2, owner.Parameters().Count());
        owner.Layers.Add(new Linear(1, 1));
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"], Names(owner.NamedParameters()));
    }

    private sealed class ListOwner : Module
    {
        public List<Linear> Layers { get; } = [new Linear(1, 1)];
    }

    [Fact]
    public void Sequential_indexing_slicing_and_appending()
    {
        var a = new Linear(2, 3);
        var b = new Relu();
        var c = new Linear(3, 1);
        var seq = new Sequential { a, b };
        seq.Append(c);
        Assert.Equal(3, seq.Count);
        Assert.Same(c, seq[^1]);
        Assert.Same(b, seq["1"]);
        var tail = seq[1..];
        Assert.Equal([b, c], tail);
        Assert.Equal(["2.weight", "2.bias"], Names(tail.NamedParameters()));
        Assert.Throws<ArgumentOutOfRangeException>(() => seq[3]);
        var named = new Sequential([("conv", new Conv2d(1, 2, 3)), ("act", new Relu())]);
        Assert.Equal(["conv.weight", "conv.bias"], Names(named.NamedParameters()));
    }

    [Fact]
    public void ModuleList_renames_items_after_insert_and_remove()
    {
        var list = new ModuleList([new Linear(1, 1), new Linear(1, 2)]);
        list.Insert(0, new Linear(1, 3));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"], Names(list.NamedParameters()));
        Assert.Equal([3, 1, 2], list.Select(m => ((Linear)m).OutFeatures));
        list.RemoveAt(1);
        Assert.Equal([3, 2], list.Select(m => ((Linear)m).OutFeatures));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], Names(list.NamedParameters()));
    }

    [Fact]
    public void ModuleDict_keeps_insertion_order_and_rejects_dotted_keys()
    {
        var dict = new ModuleDict { ["z"] = new Linear(1, 1), ["a"] = new Linear(1, 1) };
        Assert.Equal(["z", "a"], dict.Keys);
        Assert.Equal(["z.weight", "z.bias", "a.weight", "a.bias"], Names(dict.NamedParameters()));
        Assert.Throws<ArgumentException>(() => dict.Add("a", new Relu()));
        Assert.Throws<ArgumentException>(() => dict["x.y"] = new Relu());
        Assert.True(dict.Remove("z"));
        Assert.Equal(["a.weight", "a.bias"], Names(dict.NamedParameters()));
    }

    [Fact]
    public void Module_train_and_eval_reach_every_module()
    {
        var model = new Sequential(new Sequential(new Dropout()), new BatchNorm1d(2));
        Assert.All(model.Modules(), m => Assert.True(m.IsTraining));
        model.Eval();
        Assert.All(model.Modules(), m => Assert.False(m.IsTraining));
        model.Train();
        Assert.All(model.Modules(), m => Assert.True(m.IsTraining));
    }

    private sealed class WithCache : Module
    {
        public Linear Fc { get; } = new(2, 2);
        public Tensor? LastOutput { get; private set; }
        [ExcludeFromState] public WithCache? Self { get; set; }

        public override Tensor Forward(Tensor input) => LastOutput = Fc.Call(input);
    }

    [Fact]
    public void Module_tensor_made_by_an_op_is_not_state_and_excluded_back_references_are_not_children()
    {
        var m = new WithCache();
        m.Self = m;
        var x = Tensor.Ones([1, 2]);
        x.RequiresGrad = true;
        m.Call(x);
        Assert.NotNull(m.LastOutput);
        Assert.Equal(["fc.weight", "fc.bias"], m.StateDict().Keys);
        Assert.Equal(["", "fc"], Names(m.NamedModules()));
    }

    private sealed class Loop : Module
    {
        public Linear Fc { get; } = new(1, 1);
        public Loop? Again { get; set; }
    }

    [Fact]
    public void Module_that_contains_itself_through_a_field_is_walked_once()
    {
        var outer = new Loop();
        var inner = new Loop { Again = outer };
        outer.Again = inner;
        Assert.Equal(["fc.weight", "fc.bias", "again.fc.weight", "again.fc.bias"], Names(outer.NamedParameters()));
        Assert.Equal(["fc.weight", "fc.bias", "again.fc.weight", "again.fc.bias"], outer.StateDict().Keys);
    }

    private sealed class PyNet : Module
    {
        private readonly Conv2d _conv1 = new(1, 6, 5);
        private readonly List<Linear> _fcs = [new(16, 8), new(8, 2)];
        public BatchNorm2d Bn { get; } = new(6);
    }

    [Fact]
    public void StateDict_of_a_custom_module_has_the_keys_pytorch_gives_the_same_model()
    {
        // class Net(nn.Module) with self.conv1 = nn.Conv2d(1,6,5), self.fcs = nn.ModuleList([nn.Linear(16,8), nn.Linear(8,2)]),
        // self.bn = nn.BatchNorm2d(6): list(Net().state_dict().keys()) in PyTorch 1.13.
        Assert.Equal(
            ["conv1.weight", "conv1.bias", "fcs.0.weight", "fcs.0.bias", "fcs.1.weight", "fcs.1.bias",
             "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"],
            new PyNet().StateDict().Keys);
    }
}
