namespace Kiln.Kernels.Cpu;

/// <summary>
/// One register's worth of <typeparamref name="T"/> for optimizer rules: a single element (the scalar twin)
/// or a Vector128/256/512 of them, with the arithmetic a rule needs. A rule is written once against this
/// interface, so every width runs the same IEEE operations (no fused multiply-add) in the same order and
/// gives the same bits.
/// </summary>
internal unsafe interface ILane<TSelf, T> where TSelf : unmanaged, ILane<TSelf, T> where T : unmanaged
{
    /// <summary>Elements per lane.</summary>
    static abstract nuint Count { get; }

    static abstract TSelf Load(T* source);

    static abstract void Store(T* destination, TSelf value);

    /// <summary><paramref name="value"/> in every element.</summary>
    static abstract TSelf Broadcast(T value);

    static abstract TSelf Sqrt(TSelf x);

    /// <summary>The larger of each pair, NaN if either is (torch.maximum's rule).</summary>
    static abstract TSelf Max(TSelf x, TSelf y);

    /// <summary>
    /// 0 where |x| is below the smallest normal number of <typeparamref name="T"/>, else x (NaN kept):
    /// flush-to-zero done by hand, since .NET cannot set the FTZ/DAZ bits of MXCSR.
    /// </summary>
    static abstract TSelf FlushSubnormal(TSelf x);

    static abstract TSelf operator +(TSelf x, TSelf y);

    static abstract TSelf operator -(TSelf x, TSelf y);

    static abstract TSelf operator *(TSelf x, TSelf y);

    static abstract TSelf operator /(TSelf x, TSelf y);

    static abstract TSelf operator -(TSelf x);
}
