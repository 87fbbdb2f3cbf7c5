namespace Kiln.Tests.Tensors;

/// <summary>
/// A released Storage object serves the thread's next tensor: the new tensor starts fresh, and the
/// disposed one stays disposed.
/// </summary>
public sealed class StorageRecyclingTests
{
    [Fact]
    public void A_new_tensor_on_a_recycled_storage_starts_at_version_zero_and_the_old_one_stays_disposed()
    {
        var old = Tensor.From<float>([1, 2, 3]);
        old.AddInPlace(1);
        Assert.Equal(1, old.Version);
        old.Dispose();

        using var fresh = Tensor.From<float>([7, 8, 9]);
        Assert.Equal(0, fresh.Version);
        Assert.True(old.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => old.Version);
        Assert.Throws<ObjectDisposedException>(() => old.ToArray<float>());
        Assert.False(fresh.SharesStorageWith(old));
        Assert.Equal([7f, 8, 9], fresh.ToArray<float>());
    }

    [Fact]
    public void A_view_keeps_its_storage_from_being_recycled()
    {
        var baseTensor = Tensor.From<float>([1, 2, 3, 4]);
        using var view = baseTensor.Reshape(2, 2);
        baseTensor.Dispose();
        using var other = Tensor.From<float>([9, 9, 9, 9]);
        Assert.False(other.SharesStorageWith(view));
        Assert.Equal([1f, 2, 3, 4], view.ToArray<float>());
    }

    [Fact]
    public void Tensors_released_by_a_scope_are_recycled_into_working_tensors()
    {
        using var a = Tensor.From<float>([1, 2]);
        for (int step = 0; step < 3; step++)
        {
            using var scope = Engine.Scope();
            var sum = a;
            for (int i = 0; i < 200; i++) sum = sum + a;
            Assert.Equal([201f, 402], sum.ToArray<float>());
        }
    }
}
