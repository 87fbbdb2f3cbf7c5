namespace Kiln.Data;

/// <summary>Applies transforms one after another (torchvision's <c>Compose</c>), disposing the intermediate tensors.</summary>
public sealed class Compose : Transform
{
    private readonly Transform[] _transforms;

    /// <summary>A transform that applies <paramref name="transforms"/> in order.</summary>
    public Compose(params Transform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        for (int i = 0; i < transforms.Length; i++)
            if (transforms[i] is null) throw new ArgumentNullException(nameof(transforms), $"Compose: transform {i} is null");
        _transforms = (Transform[])transforms.Clone();
    }

    /// <summary>The transforms, in the order they run.</summary>
    public IReadOnlyList<Transform> Transforms => _transforms;

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        var current = input;
        foreach (var transform in _transforms)
        {
            // The caller's input is the caller's; only tensors made along the way are ours to dispose.
            current = ReferenceEquals(current, input) ? transform.Apply(current) : ApplyTo(transform, current);
        }
        return current;
    }
}
