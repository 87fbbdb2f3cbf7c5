using Kiln.Compile;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Tests.Tensors;

/// <summary>
/// Engine.Profile times ops while it is active: eager ops (forward and the backward pass's gradient
/// ops), the nodes of compiled graphs and optimizer updates, each row once per call. It runs in the
/// non-parallel collection, since it records ops from every thread.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class ProfilerTests
{
    /// <summary>The calls column of the table's row for <paramref name="op"/> (0 when it has none).</summary>
    private static long Calls(string table, string op)
    {
        foreach (var line in table.Split('\n'))
        {
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length == 5 && cells[0] == op) return long.Parse(cells[1]);
        }
        return 0;
    }

    [Fact]
    public void Profile_counts_each_eager_op_call_and_stops_at_dispose()
    {
        var a = Tensor.Ones([4, 3]);
        var b = Tensor.Ones([3, 2]);
        Profiler profile;
        using (profile = Engine.Profile())
        {
            using var scope = Engine.Scope();
            var c = a.MatMul(b);
            _ = c + c;
            _ = c + c;
            c.AddInPlace(c);
        }
        using (Engine.Scope()) _ = a + a;
        var table = profile.Table();
        Assert.Equal(1, Calls(table, "MatMul"));
        Assert.Equal(2, Calls(table, "Add"));
        Assert.Equal(1, Calls(table, "Add_"));
        Assert.Contains("in ops:", table);
        Assert.True(profile.Elapsed > TimeSpan.Zero);
    }

    [Fact]
    public void Profile_records_backward_ops_compiled_nodes_and_optimizer_updates()
    {
        Engine.ManualSeed(3);
        var model = new Sequential(new Linear(6, 4), new Relu(), new Linear(4, 3));
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        using var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer);
        var x = Tensor.Randn([5, 6]);
        var y = Tensor.From<long>([0, 1, 2, 0, 1], 5);
        step.Step(x, y).Dispose();
        Profiler profile;
        using (profile = Engine.Profile())
        {
            step.Step(x, y).Dispose();
            step.Step(x, y).Dispose();
            using var scope = Engine.Scope();
            F.CrossEntropy(model.Call(x), y).Backward();
        }
        var table = profile.Table(top: 100);
        Assert.Equal(2 * 4, Calls(table, "Sgd.update"));     // two compiled steps, four parameters
        Assert.Equal(2 * 2 + 2, Calls(table, "Linear"));      // two layers, in two replays and one eager forward
        Assert.True(Calls(table, "ReluBackward") >= 3, table);
    }

    [Fact]
    public void Profile_with_shapes_keeps_a_row_per_input_shape()
    {
        Profiler profile;
        using (profile = Engine.Profile(recordShapes: true))
        {
            using var scope = Engine.Scope();
            _ = Tensor.Ones([2, 3]) * 2;
            _ = Tensor.Ones([5]) * 2;
        }
        var table = profile.Table();
        Assert.Contains("Mul [[2,3], []]", table);
        Assert.Contains("Mul [[5], []]", table);
    }

    [Fact]
    public void Only_one_profiler_records_at_a_time()
    {
        using var first = Engine.Profile();
        var e = Assert.Throws<InvalidOperationException>(() => Engine.Profile());
        Assert.Contains("already recording", e.Message);
        first.Dispose();
        using var second = Engine.Profile();
        Assert.Throws<ArgumentOutOfRangeException>(() => second.Table(top: 0));
    }
}
