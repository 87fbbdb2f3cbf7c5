using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>Compiled modules against their eager forward (module construction draws from the global random stream).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class CompiledModuleTests
{
    internal static Sequential Mlp() => new(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));

    /// <summary>The Fashion-MNIST CNN's layers, narrower by default (the benchmark's model is 32, 64, 1024).</summary>
    internal static Sequential FashionCnn(int channels1 = 8, int channels2 = 16, int hidden = 64) => new(
        new Conv2d(1, channels1, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Conv2d(channels1, channels2, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(channels2 * 7 * 7, hidden), new Relu(), new Dropout(0.4), new Linear(hidden, 10));

    private static Tensor Eager(Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    [Fact]
    public void Compiled_mlp_equals_eager_bit_for_bit()
    {
        Engine.ManualSeed(1);
        var model = Mlp();
        model.Eval();
        using var compiled = Engine.Compile(model);
        foreach (var batch in new[] { 1, 64, 1 })
            for (int call = 0; call < 2; call++)
            {
                var x = CompileAssert.Uniform(batch * 10 + call, batch, 1, 28, 28);
                CompileAssert.SameBits(Eager(model, x), compiled.Call(x), $"batch {batch}, call {call}");
            }
        Assert.Equal(2, compiled.TraceCount);
    }

    [Fact]
    public void Compiled_fashion_mnist_cnn_in_eval_mode_equals_eager_bit_for_bit()
    {
        Engine.ManualSeed(2);
        var model = FashionCnn();
        model.Eval();
        using var compiled = Engine.Compile(model);
        for (int call = 0; call < 3; call++)
        {
            var x = CompileAssert.Uniform(call, 0.0, 1.0, 4, 1, 28, 28);
            CompileAssert.SameBits(Eager(model, x), compiled.Call(x), $"call {call}");
        }
        Assert.Equal(1, compiled.TraceCount);
        var text = compiled.GraphText;
        Assert.StartsWith("graph Sequential(%in0: [4,1,28,28] f32)\n  param @0.weight: [8,1,5,5] f32\n  param @0.bias: [8] f32\n", text);
        Assert.Contains("Conv2d(%in0, @0.weight, @0.bias)", text); // FusedConv2d where a ReLU follows
        Assert.Contains("= Linear(", text);
        Assert.DoesNotContain("Dropout", text); // the identity in eval mode: nothing to record
    }

    [Fact]
    public void Parameters_are_read_at_every_call_so_eager_training_shows_in_the_compiled_module()
    {
        Engine.ManualSeed(3);
        var model = new Sequential(new Linear(6, 4), new Tanh(), new Linear(4, 2));
        model.Eval();
        using var compiled = Engine.Compile(model);
        var x = CompileAssert.Uniform(1, 3, 6);
        compiled.Call(x);
        compiled.Call(x);
        using (Engine.NoGrad())
            foreach (var p in model.Parameters()) p.MulInPlace(Tensor.Scalar(1.5));
        CompileAssert.SameBits(Eager(model, x), compiled.Call(x));
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void A_parameter_converted_to_another_dtype_makes_the_module_trace_again()
    {
        Engine.ManualSeed(4);
        var model = new Sequential(new Linear(6, 4));
        model.Eval();
        using var compiled = Engine.Compile(model);
        compiled.Call(CompileAssert.Uniform(1, 3, 6));
        model.To(DType.Float64);
        var x = CompileAssert.Uniform(1, 3, 6).To(DType.Float64);
        CompileAssert.SameBits(Eager(model, x), compiled.Call(x));
        Assert.Equal(2, compiled.TraceCount);
    }

    [Fact]
    public void Training_mode_is_part_of_the_signature()
    {
        Engine.ManualSeed(5);
        var model = new Sequential(new Linear(6, 4), new Relu());
        using var compiled = Engine.Compile(model);
        var x = CompileAssert.Uniform(1, 3, 6);
        using (Engine.NoGrad()) compiled.Call(x);
        model.Eval();
        compiled.Call(x);
        compiled.Call(x);
        Assert.Equal(2, compiled.TraceCount);
    }

    [Fact]
    public void Batch_norm_in_eval_mode_reads_its_running_statistics_as_named_buffers()
    {
        Engine.ManualSeed(6);
        var model = new Sequential(new Conv2d(2, 3, kernelSize: 3, padding: 1), new BatchNorm2d(3), new Relu());
        using (Engine.NoGrad())
            for (int i = 0; i < 3; i++) model.Call(CompileAssert.Uniform(40 + i, 2, 2, 5, 5)); // running statistics move
        model.Eval();
        using var compiled = Engine.Compile(model);
        var x = CompileAssert.Uniform(7, 2, 2, 5, 5);
        for (int call = 0; call < 2; call++) CompileAssert.SameBits(Eager(model, x), compiled.Call(x));
        Assert.Contains("param @1.running_mean: [3] f32", compiled.GraphText);
        Assert.Contains("param @1.running_var: [3] f32", compiled.GraphText);
    }

    [Fact]
    public void Batch_norm_in_training_mode_is_refused_naming_the_buffer_it_would_update()
    {
        Engine.ManualSeed(7);
        var model = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
        using var compiled = Engine.Compile(model);
        var e = Assert.Throws<KilnException>(() =>
        {
            using (Engine.NoGrad()) compiled.Call(CompileAssert.Uniform(1, 5, 4));
        });
        Assert.Contains("Sequential: Add writes in place into the parameter or buffer '1.num_batches_tracked' ([] i64)", e.Message);
        Assert.Contains("compile the module in Eval mode", e.Message);
        Assert.Equal(0, compiled.TraceCount);
    }

    [Fact]
    public void Dropout_in_training_mode_is_refused_naming_the_random_draw()
    {
        Engine.ManualSeed(8);
        var model = new Sequential(new Linear(4, 3), new Dropout(0.5));
        using var compiled = Engine.Compile(model);
        var e = Assert.Throws<KilnException>(() =>
        {
            using (Engine.NoGrad()) compiled.Call(CompileAssert.Uniform(1, 5, 4));
        });
        Assert.Contains("Rand draws from the random stream during tracing", e.Message);
        Assert.Contains("Dropout in training mode", e.Message);
    }

    [Fact]
    public void Embedding_compiles_and_its_replays_still_refuse_an_index_out_of_range()
    {
        Engine.ManualSeed(9);
        var model = new Sequential(new Embedding(10, 4), new Flatten(), new Linear(12, 2));
        model.Eval();
        using var compiled = Engine.Compile(model);
        var ids = Tensor.From<long>([1, 2, 3, 9, 0, 4], 2, 3);
        for (int call = 0; call < 2; call++) CompileAssert.SameBits(Eager(model, ids), compiled.Call(ids));
        Assert.DoesNotContain("Min", compiled.GraphText);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => compiled.Call(Tensor.From<long>([1, 2, 3, 10, 0, 4], 2, 3)));
        Assert.Contains("index 10 is out of bounds", e.Message);
    }

    [Fact]
    public void A_lazy_model_compiled_before_its_first_call_builds_during_the_trace_and_names_its_parameters()
    {
        Engine.ManualSeed(10);
        var model = new Sequential(new Conv2d(4, kernelSize: 3), new Relu(), new Flatten(), new Linear(5));
        model.Eval();
        using var compiled = Engine.Compile(model);
        var x = CompileAssert.Uniform(1, 2, 3, 6, 6);
        var first = compiled.Call(x);
        CompileAssert.SameBits(Eager(model, x), first);
        CompileAssert.SameBits(Eager(model, x), compiled.Call(x));
        Assert.Contains("param @0.weight: [4,3,3,3] f32", compiled.GraphText);
        Assert.Contains("param @3.weight: [5,64] f32", compiled.GraphText);
    }
}
