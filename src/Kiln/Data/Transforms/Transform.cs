namespace Kiln.Data;

/// <summary>
/// A per-item data transform (torchvision's transforms): a tensor in, a tensor out. Datasets apply
/// their transform to each item they return; chain several with <see cref="Compose"/>.
/// </summary>
/// <remarks>
/// Random transforms draw from a stream that, inside a <see cref="DataLoader"/>, depends only on the
/// loader's seed, the epoch and the item's index, so results are the same whatever the number of
/// workers. Called outside a loader they draw from Kiln's random stream (<see cref="Engine.ManualSeed"/>).
/// A transform must be safe to call from several threads at once: keep no per-call state in fields.
/// </remarks>
public abstract class Transform
{
    /// <summary>Transforms one item. Returns a new tensor, or <paramref name="input"/> itself when it leaves it unchanged.</summary>
    public abstract Tensor Apply(Tensor input);

    /// <summary>
    /// Applies <paramref name="transform"/> (if any) to a tensor the caller made for this item, disposing that
    /// tensor when the transform returned another one (a view of it keeps the memory alive).
    /// </summary>
    internal static Tensor ApplyTo(Transform? transform, Tensor made)
    {
        if (transform is null) return made;
        Tensor result;
        try
        {
            result = transform.Apply(made);
        }
        catch
        {
            made.Dispose();
            throw;
        }
        if (!ReferenceEquals(result, made)) made.Dispose();
        return result;
    }

    /// <summary>
    /// A uniform value in [0, 1) from the item's random stream (see the remarks on <see cref="Transform"/>);
    /// custom random transforms draw with it to stay reproducible.
    /// </summary>
    protected static double RandomDouble() => ItemRandom.Current.NextDouble();

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMax"/>) from the item's random stream.</summary>
    protected static int RandomInt(int exclusiveMax) => ItemRandom.Current.NextInt(exclusiveMax);
}
