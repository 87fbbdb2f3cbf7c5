namespace Kiln.Tests.Tensors;

/// <summary>Shared storage: views outlive their base, disposed tensors refuse use.</summary>
public sealed class StorageTests
{
    [Fact]
    public void A_view_keeps_the_storage_alive_after_the_base_is_disposed()
    {
        var baseTensor = Tensor.From<float>([1, 2, 3, 4, 5, 6], 2, 3);
        var view = baseTensor.Reshape(3, 2);
        var expanded = baseTensor.Reshape(1, 6).Expand(2, 6);
        baseTensor.Dispose();
        Assert.True(baseTensor.IsDisposed);
        Assert.False(view.IsDisposed);
        Assert.Equal([1f, 2, 3, 4, 5, 6], view.ToArray<float>());
        Assert.Equal(12, expanded.ToArray<float>().Length);
        view.Dispose();
        Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], expanded.ToArray<float>());
    }

    [Fact]
    public void Detach_shares_storage_and_outlives_the_original()
    {
        var t = Tensor.From<double>([7, 8]);
        var d = t.Detach();
        t.Dispose();
        Assert.Equal([7.0, 8], d.ToArray<double>());
    }

    public static TheoryData<string> DisposedUses() =>
        ["ToArray", "Item", "Add", "AddInPlace", "Reshape", "Expand", "Sum", "Exp", "Clone", "To", "Detach", "Version"];

    [Theory]
    [MemberData(nameof(DisposedUses))]
    public void Using_a_disposed_tensor_throws_ObjectDisposedException(string use)
    {
        var t = Tensor.From<float>([3]);
        var other = Tensor.From<float>([4]);
        t.Dispose();
        Action action = use switch
        {
            "ToArray" => () => t.ToArray<float>(),
            "Item" => () => t.Item(),
            "Add" => () => _ = t + other,
            "AddInPlace" => () => t.AddInPlace(other),
            "Reshape" => () => t.Reshape(1, 1),
            "Expand" => () => t.Expand(4),
            "Sum" => () => t.Sum(),
            "Exp" => () => t.Exp(),
            "Clone" => () => t.Clone(),
            "To" => () => t.To(DType.Float64),
            "Detach" => () => t.Detach(),
            "Version" => () => _ = t.Version,
            _ => throw new ArgumentException(use),
        };
        Assert.Throws<ObjectDisposedException>(action);
    }

    [Fact]
    public void A_disposed_operand_on_the_right_also_throws()
    {
        var a = Tensor.Ones([2]);
        var b = Tensor.Ones([2]);
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a * b);
        Assert.Throws<ObjectDisposedException>(() => a.MulInPlace(b));
    }

    [Fact]
    public void Disposing_twice_is_harmless()
    {
        var t = Tensor.Ones([2]);
        var view = t.Reshape(2, 1);
        t.Dispose();
        t.Dispose();
        Assert.Equal([1f, 1], view.ToArray<float>());
    }

    [Fact]
    public void Metadata_stays_readable_after_dispose()
    {
        var t = Tensor.Ones([2, 3], DType.Float64);
        t.Dispose();
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(DType.Float64, t.DType);
        Assert.Equal(6, t.NumElements);
    }
}
