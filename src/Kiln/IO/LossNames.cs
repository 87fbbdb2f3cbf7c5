using Kiln.Models;

namespace Kiln.IO;

/// <summary>
/// The losses a saved model may name in its compile settings: the unconfigured members of
/// <see cref="Losses"/>, found by delegate equality (a method group of the same static method is
/// equal to these). A configured loss (<c>Losses.Huber(delta: 2)</c>) or one of the user's own is a
/// delegate a file cannot name, so it is not saved, and loading looks names up here only.
/// </summary>
internal static class LossNames
{
    private static readonly (string Name, Loss Loss)[] BuiltIn =
    [
        (nameof(Losses.CrossEntropy), Losses.CrossEntropy),
        (nameof(Losses.NllLoss), Losses.NllLoss),
        (nameof(Losses.BinaryCrossEntropy), Losses.BinaryCrossEntropy),
        (nameof(Losses.BinaryCrossEntropyWithLogits), Losses.BinaryCrossEntropyWithLogits),
        (nameof(Losses.MeanSquaredError), Losses.MeanSquaredError),
        (nameof(Losses.MeanAbsoluteError), Losses.MeanAbsoluteError),
        (nameof(Losses.Huber), Losses.Huber),
        (nameof(Losses.SmoothL1), Losses.SmoothL1),
    ];

    /// <summary>The name of <paramref name="loss"/> when it is a built-in one, else null.</summary>
    public static string? NameOf(Loss loss)
    {
        foreach (var (name, builtIn) in BuiltIn)
            if (builtIn.Equals(loss)) return name;
        return null;
    }

    /// <summary>The built-in loss called <paramref name="name"/>, or null.</summary>
    public static Loss? Named(string name)
    {
        foreach (var (n, loss) in BuiltIn)
            if (n == name) return loss;
        return null;
    }

    /// <summary>The names, for error messages.</summary>
    public static string All => string.Join(", ", BuiltIn.Select(b => b.Name));
}
