namespace Kiln.Ops;

/// <summary>
/// Which extremum a Max/Min pair of ops keeps (Max/Min, ArgMax/ArgMin, Maximum/Minimum): the pair
/// shares one generic implementation over <see cref="Largest"/> or <see cref="Smallest"/>. The flag
/// is a constant of a struct type argument, so the JIT folds every branch on it away.
/// </summary>
internal interface IExtremum
{
    /// <summary>True when the larger value wins, false when the smaller one does.</summary>
    static abstract bool IsLargest { get; }
}

/// <summary>The larger value wins (Max, ArgMax, Maximum).</summary>
internal readonly struct Largest : IExtremum
{
    public static bool IsLargest => true;
}

/// <summary>The smaller value wins (Min, ArgMin, Minimum).</summary>
internal readonly struct Smallest : IExtremum
{
    public static bool IsLargest => false;
}
