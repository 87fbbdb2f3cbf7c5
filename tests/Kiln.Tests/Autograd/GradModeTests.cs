namespace Kiln.Tests.Autograd;

/// <summary>NoGrad / EnableGrad scopes, Detach, and the IsLeaf / RequiresGrad rules.</summary>
public sealed class GradModeTests
{
    private static Tensor Leaf(params double[] values)
    {
        var x = Tensor.From<double>(values);
        x.RequiresGrad = true;
        return x;
    }

    [Fact]
    public void NoGrad_stops_recording()
    {
        var x = Leaf(1, 2);
        Tensor y;
        using (Engine.NoGrad())
        {
            Assert.False(Engine.IsGradEnabled);
            y = x * x;
        }
        Assert.True(Engine.IsGradEnabled);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.Null(y.GradFnName);
    }

    [Fact]
    public void NoGrad_and_EnableGrad_nest_and_restore_the_previous_mode()
    {
        var x = Leaf(1);
        using (Engine.NoGrad())
        {
            using (Engine.EnableGrad())
            {
                Assert.True(Engine.IsGradEnabled);
                Assert.True((x * 2.0).RequiresGrad);
                using (Engine.NoGrad())
                {
                    Assert.False((x * 2.0).RequiresGrad);
                }
                Assert.True((x * 2.0).RequiresGrad);
            }
            Assert.False(Engine.IsGradEnabled);
            Assert.False((x * 2.0).RequiresGrad);
        }
        Assert.True(Engine.IsGradEnabled);
        Assert.True((x * 2.0).RequiresGrad);
    }

    [Fact]
    public void NoGrad_on_one_thread_does_not_affect_another()
    {
        var x = Leaf(1, 2);
        using var noGradEntered = new ManualResetEventSlim();
        using var otherDone = new ManualResetEventSlim();
        using var enableGradEntered = new ManualResetEventSlim();
        using var mainDone = new ManualResetEventSlim();
        bool otherSawGrad = false, otherRecorded = false, mainRecordedInsideOtherNoGrad = false, mainSawGrad = false;

        var other = new Thread(() =>
        {
            noGradEntered.Wait();
            otherSawGrad = Engine.IsGradEnabled;
            otherRecorded = (x * 3.0).RequiresGrad;
            otherDone.Set();
            // Now this thread turns grad off while the main thread computes.
            using (Engine.NoGrad())
            {
                enableGradEntered.Set();
                mainDone.Wait();
            }
        });
        other.Start();

        using (Engine.NoGrad())
        {
            noGradEntered.Set();
            otherDone.Wait();
        }
        enableGradEntered.Wait();
        mainSawGrad = Engine.IsGradEnabled;
        mainRecordedInsideOtherNoGrad = (x * 3.0).RequiresGrad;
        mainDone.Set();
        other.Join();

        Assert.True(otherSawGrad, "the other thread saw grad disabled by this thread's NoGrad");
        Assert.True(otherRecorded);
        Assert.True(mainSawGrad, "this thread saw grad disabled by the other thread's NoGrad");
        Assert.True(mainRecordedInsideOtherNoGrad);
    }

    [Fact]
    public void Detach_stops_gradients_and_shares_storage()
    {
        var x = Leaf(1, 2, 3);
        var y = x * x;
        var d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.True(d.SharesStorageWith(y));
        Assert.Equal(y.ToArray<double>(), d.ToArray<double>());

        // d is a constant: d(d * x)/dx = d = x^2, not 3x^2.
        (d * x).Sum().Backward();
        Assert.Equal([1.0, 4, 9], x.Grad!.ToArray<double>());

        // Writes through the detached view are seen by the original.
        using (Engine.NoGrad()) d.MulInPlace(Tensor.Scalar(10, DType.Float64));
        Assert.Equal([10.0, 40, 90], y.ToArray<double>());
    }

    [Fact]
    public void New_tensors_are_leaves_that_do_not_require_grad()
    {
        var t = Tensor.Zeros([2]);
        Assert.True(t.IsLeaf);
        Assert.False(t.RequiresGrad);
        Assert.Null(t.Grad);
    }

    [Fact]
    public void Op_results_are_non_leaves_named_after_their_backward()
    {
        var x = Leaf(1);
        var y = x * 2.0;
        Assert.False(y.IsLeaf);
        Assert.True(y.RequiresGrad);
        Assert.Equal("MulBackward", y.GradFnName);
        Assert.Equal("ExpBackward", x.Exp().GradFnName);
        Assert.Equal("SumBackward", y.Sum().GradFnName);
    }

    [Fact]
    public void Ops_on_tensors_that_do_not_require_grad_make_leaves()
    {
        var a = Tensor.Ones([2], DType.Float64);
        var y = a * a;
        Assert.True(y.IsLeaf);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void Turning_RequiresGrad_off_on_a_non_leaf_throws()
    {
        var y = Leaf(1) * 2.0;
        var ex = Assert.Throws<KilnAutogradException>(() => y.RequiresGrad = false);
        Assert.Contains("MulBackward", ex.Message);
        Assert.Contains("Detach", ex.Message);
        y.RequiresGrad = true;
        Assert.True(y.RequiresGrad);
    }

    [Fact]
    public void Turning_RequiresGrad_on_and_off_on_a_leaf_works()
    {
        var x = Tensor.Ones([2]);
        x.RequiresGrad = true;
        Assert.True((x * 2f).RequiresGrad);
        x.RequiresGrad = false;
        Assert.False((x * 2f).RequiresGrad);
    }

    [Theory]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Bool)]
    [InlineData(DType.UInt8)]
    public void Non_float_tensors_cannot_require_grad(DType dtype)
    {
        var t = Tensor.Zeros([3], dtype);
        var ex = Assert.Throws<KilnAutogradException>(() => t.RequiresGrad = true);
        Assert.Contains(dtype.Name(), ex.Message);
        Assert.False(t.RequiresGrad);
    }

    [Fact]
    public void Casting_to_an_integer_type_ends_the_graph()
    {
        var x = Leaf(1.7, -2.2);
        var i = x.To(DType.Int64);
        Assert.False(i.RequiresGrad);
        Assert.Equal([1L, -2], i.ToArray<long>());
    }
}
