using System.Buffers.Binary;
using Kiln.Compile;
using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Compile;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// Compiled graphs saved as .kiln files and loaded again: the loaded function gives the compiled and
/// eager bits, needs none of the code or classes that built it, runs only its saved signature, and
/// the same graph always gives the same bytes.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class KilnGraphFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-graph-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    private static Tensor Eager(Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    internal static Sequential Cnn() => new(
        new Conv2d(2, 6, kernelSize: 3, padding: 1), new BatchNorm2d(6), new Relu(), new MaxPool2d(2),
        new Conv2d(6, 8, kernelSize: 3, stride: 2), new Gelu(), new AvgPool2d(2),
        new Flatten(), new Linear(8, 5), new LogSoftmax(dim: 1));

    /// <summary>A CNN in eval mode whose batch-norm statistics are not the defaults (so they matter).</summary>
    internal static Sequential TrainedCnn()
    {
        Engine.ManualSeed(31);
        var model = Cnn();
        using (var scope = Engine.Scope())
            for (int i = 0; i < 3; i++) model.Call(Tensor.Randn([4, 2, 12, 12]) * 2 + 1);
        model.Eval();
        return model;
    }

    [Fact]
    public void Saved_mlp_loads_and_gives_the_compiled_and_eager_bits()
    {
        Engine.ManualSeed(1);
        var model = CompiledModuleTests.Mlp();
        model.Eval();
        var path = PathOf("mlp.kiln");
        using (var compiled = Engine.Compile(model))
        {
            var example = CompileAssert.Uniform(1, 8, 1, 28, 28);
            CompileAssert.SameBits(Eager(model, example), compiled.Call(example), "the traced call");
            compiled.Save(path);
        }
        using var loaded = Engine.Load(path);
        for (int call = 0; call < 3; call++)
        {
            var x = CompileAssert.Uniform(10 + call, 8, 1, 28, 28);
            CompileAssert.SameBits(Eager(model, x), loaded.Call(x), $"call {call}");
        }
        Assert.Equal(0, loaded.TraceCount);
        Assert.StartsWith("graph Sequential(%in0: [8,1,28,28] f32)\n  param @1.weight: [256,784] f32\n", loaded.GraphText);
    }

    [Fact]
    public void Saved_cnn_with_batch_norm_and_pooling_in_eval_mode_gives_the_eager_bits()
    {
        var model = TrainedCnn();
        var path = PathOf("cnn.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 3, 2, 12, 12), path);
        using var loaded = Engine.Load(path);
        for (int call = 0; call < 2; call++)
        {
            var x = CompileAssert.Uniform(20 + call, 3, 2, 12, 12);
            CompileAssert.SameBits(Eager(model, x), loaded.Call(x), $"call {call}");
        }
        var text = loaded.GraphText;
        Assert.Contains("Conv2d(%in0, @0.weight, @0.bias)", text); // FusedConv2d where a ReLU follows
        Assert.Contains("= Rsqrt(", text); // batch norm in eval mode, with its running statistics as parameters
        Assert.Contains("= MaxPool2d(", text);
        Assert.Contains("= AvgPool2d(", text);
        Assert.Contains("param @1.running_var: [6] f32", text);
    }

    /// <summary>Two inputs, three outputs of three dtypes, a captured constant, views, a reduction and an int64 result.</summary>
    private static Tensor[] TwoInThreeOut(Tensor[] xs, Tensor scale)
    {
        var (a, b) = (xs[0], xs[1]);
        var mixed = Tensor.Cat([a * scale, b.Permute(1, 0)], dim: 1);
        var probabilities = mixed.Softmax(1);
        return [probabilities, mixed.Sum([0]).Reshape(2, -1), probabilities.Gt(0.1).To(DType.Int64).Sum([1]) + mixed.ArgMax(1)];
    }

    [Fact]
    public void Saved_function_of_two_inputs_and_three_outputs_gives_the_eager_bits()
    {
        var scale = CompileAssert.Uniform(5, 1, 4);
        var path = PathOf("function.kiln");
        using (var compiled = Engine.Compile(xs => TwoInThreeOut(xs, scale)))
        {
            compiled.Invoke(CompileAssert.Uniform(1, 3, 4), CompileAssert.Uniform(2, 6, 3));
            compiled.Save(path);
        }
        using var loaded = Engine.Load(path);
        var inputs = new[] { CompileAssert.Uniform(3, 3, 4), CompileAssert.Uniform(4, 6, 3) };
        var expected = TwoInThreeOut(inputs, scale);
        var results = loaded.Invoke(inputs);
        Assert.Equal(3, results.Length);
        for (int k = 0; k < 3; k++) CompileAssert.SameBits(expected[k], results[k], $"output {k}");
        Assert.Equal(DType.Int64, results[2].DType);
    }

    [Fact]
    public void The_same_graph_gives_the_same_bytes_and_a_loaded_graph_saves_them_again()
    {
        var model = TrainedCnn();
        var x = CompileAssert.Uniform(0, 2, 2, 12, 12);
        KilnGraphFile.Save(model, x, PathOf("a.kiln"));
        KilnGraphFile.Save(model, x, PathOf("b.kiln"));
        var bytes = File.ReadAllBytes(PathOf("a.kiln"));
        Assert.Equal(bytes, File.ReadAllBytes(PathOf("b.kiln")));
        using (var loaded = Engine.Load(PathOf("a.kiln"))) loaded.Save(PathOf("c.kiln"));
        Assert.Equal(bytes, File.ReadAllBytes(PathOf("c.kiln")));
    }

    [Fact]
    public void Loaded_function_refuses_other_shapes_naming_the_expected_and_given_ones()
    {
        var path = PathOf("mlp.kiln");
        Engine.ManualSeed(2);
        var model = new Sequential(new Linear(6, 4), new Relu());
        model.Eval();
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 5, 6), path);
        using var loaded = Engine.Load(path);
        var e = Assert.Throws<ArgumentException>(() => loaded.Call(CompileAssert.Uniform(0, 7, 6)));
        Assert.Contains("Sequential was loaded from a file and runs only the signature it was saved with: it takes ([5,6] f32), got ([7,6] f32)", e.Message);
        var d = Assert.Throws<ArgumentException>(() => loaded.Call(Tensor.Zeros([5, 6], DType.Float64)));
        Assert.Contains("got ([5,6] f64)", d.Message);
        Assert.Throws<ArgumentException>(() => loaded.Invoke(CompileAssert.Uniform(0, 5, 6), CompileAssert.Uniform(0, 5, 6)));
    }

    [Fact]
    public void Loaded_function_runs_strided_inputs_writes_into_given_outputs_and_runs_with_gradients_on()
    {
        Engine.ManualSeed(3);
        var model = new Sequential(new Linear(6, 4), new Tanh());
        model.Eval();
        var path = PathOf("strided.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 5, 6), path);
        using var loaded = Engine.Load(path);
        var x = CompileAssert.Uniform(7, 6, 5);
        var transposed = x.Permute(1, 0);
        Assert.False(transposed.IsContiguous);
        var expected = Eager(model, transposed);
        CompileAssert.SameBits(expected, loaded.Call(transposed), "strided input");
        using var output = Tensor.Zeros([5, 4]);
        loaded.CallInto(transposed.Contiguous(), output);
        CompileAssert.SameBits(expected, output, "CallInto");
        Assert.True(Engine.IsGradEnabled);
    }

    [Fact]
    public void Loaded_function_called_inside_another_compiled_function_is_traced_into_it()
    {
        Engine.ManualSeed(4);
        var model = new Sequential(new Linear(3, 3), new Sigmoid());
        model.Eval();
        var path = PathOf("inner.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 2, 3), path);
        using var inner = Engine.Load(path);
        using var outer = Engine.Compile(x => inner.Call(x) * 2);
        var x = CompileAssert.Uniform(8, 2, 3);
        using var expected = Eager(model, x) * 2;
        CompileAssert.SameBits(expected, outer.Call(x), "traced call");
        CompileAssert.SameBits(expected, outer.Call(x), "replay");
        Assert.Contains("= PrepackedLinear(", outer.GraphText); // the loaded weights are constants of the outer graph
    }

    [Fact]
    public void A_function_not_called_yet_has_no_graph_to_save()
    {
        using var compiled = Engine.Compile(x => x.Exp());
        var e = Assert.Throws<InvalidOperationException>(() => compiled.Save(PathOf("none.kiln")));
        Assert.Contains("has not been called yet", e.Message);
        Assert.False(File.Exists(PathOf("none.kiln")));
    }

    private byte[] SoftmaxFile()
    {
        var path = PathOf("softmax.kiln");
        using (var compiled = Engine.Compile(x => x.Softmax(1)))
        {
            compiled.Call(CompileAssert.Uniform(0, 2, 3));
            compiled.Save(path);
        }
        return File.ReadAllBytes(path);
    }

    private KilnFormatException Refused(byte[] file)
    {
        var path = PathOf("bad.kiln");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<KilnFormatException>(() => Engine.Load(path));
        Assert.Contains($".kiln file '{path}'", e.Message);
        return e;
    }

    [Fact]
    public void A_newer_format_version_is_refused_before_anything_else_is_read()
    {
        var file = SoftmaxFile();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 2);
        Assert.Contains("is format version 2, newer than this Kiln reads (version 1); load it with a newer Kiln", Refused(file).Message);
    }

    [Fact]
    public void A_file_of_another_kind_is_refused()
    {
        var path = PathOf("weights.safetensors");
        Safetensors.Save(path, [new("w", Tensor.Zeros([3]))]);
        Assert.Contains("does not start with \"KILNGRPH\"", Refused(File.ReadAllBytes(path)).Message);
    }

    [Fact]
    public void A_damaged_byte_is_caught_by_the_checksum()
    {
        var file = SoftmaxFile();
        file[^10] ^= 0x10;
        Assert.Contains("fails its CRC-32 check", Refused(file).Message);
    }

    [Fact]
    public void An_unknown_op_is_refused_naming_the_node()
    {
        var parts = KilnFileBytes.Split(SoftmaxFile());
        System.Text.Encoding.ASCII.GetBytes("Softmux").CopyTo(parts.Graph, KilnFileBytes.Find(parts.Graph, "Softmax"));
        Assert.Contains("node %0 (Softmux): no op is named 'Softmux' in this Kiln", Refused(parts.Join()).Message);
    }

    [Fact]
    public void An_attribute_out_of_range_for_the_input_is_refused_naming_the_node()
    {
        var parts = KilnFileBytes.Split(SoftmaxFile());
        // After the op name: the attribute byte count (5), then the tag of an int and the dimension.
        int attributes = KilnFileBytes.Find(parts.Graph, "Softmax") + "Softmax".Length + 4;
        Assert.Equal(2, parts.Graph[attributes]);
        BinaryPrimitives.WriteInt32LittleEndian(parts.Graph.AsSpan(attributes + 1), 7);
        Assert.Contains("node %0 (Softmax) does not type-check: Softmax: dimension 7 is out of range", Refused(parts.Join()).Message);
    }

    [Fact]
    public void An_attribute_of_the_wrong_kind_is_refused_naming_the_node_and_field()
    {
        var parts = KilnFileBytes.Split(SoftmaxFile());
        int attributes = KilnFileBytes.Find(parts.Graph, "Softmax") + "Softmax".Length + 4;
        parts.Graph[attributes] = 4;
        Assert.Contains("node %0 (Softmax): attribute \"dim\" has tag 4; expected Int32 (2)", Refused(parts.Join()).Message);
    }

    [Fact]
    public void A_result_spec_that_its_op_does_not_infer_is_refused()
    {
        var parts = KilnFileBytes.Split(SoftmaxFile());
        // The node's result spec is the last thing before the output list (count 1, value id 1): f32, rank 2, [2, 3].
        int spec = parts.Graph.Length - 8 - 10;
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(parts.Graph.AsSpan(spec + 6)));
        BinaryPrimitives.WriteInt32LittleEndian(parts.Graph.AsSpan(spec + 6), 4);
        Assert.Contains("node %0 (Softmax) declares its result [2,4] f32, but the op infers [2,3] f32", Refused(parts.Join()).Message);
    }

    [Fact]
    public void A_weight_of_another_shape_than_its_parameter_is_refused()
    {
        Engine.ManualSeed(6);
        var model = new Sequential(new Linear(3, 2));
        model.Eval();
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 1, 3), PathOf("linear.kiln"));
        var parts = KilnFileBytes.Split(File.ReadAllBytes(PathOf("linear.kiln")));
        using var weights = Safetensors.Read(new MemoryStream(parts.Weights));
        var tensors = weights.Tensors.ToList();
        tensors[0] = new(tensors[0].Key, Tensor.Zeros([3, 2]));
        var stream = new MemoryStream();
        Safetensors.Write(stream, tensors);
        var message = Refused((parts with { Weights = stream.ToArray() }).Join()).Message;
        Assert.Contains("the weights section's tensor '0.weight' is [3,2] f32; the graph declares parameter '0.weight' as [2,3] f32", message);
    }
}
