namespace Kiln.Kernels.Cpu;

/// <summary>How a microkernel combines its product with the C tile already in memory.</summary>
internal enum GemmUpdate
{
    /// <summary>C = product (C is not read, so it may hold garbage).</summary>
    Store,

    /// <summary>C = C + product.</summary>
    Add,

    /// <summary>C = beta·C + product, one fused multiply-add.</summary>
    Scale,
}

/// <summary>
/// A register-blocked GEMM microkernel: one MR×NR tile of C from an MR-row panel of packed A and an
/// NR-column panel of packed B, and the cache block sizes its driver uses. Each element of the
/// product is a fused multiply-add chain over p in increasing order, so a tile's bits do not depend
/// on where the driver's blocks or threads split the work (except KC, which is fixed per kernel).
/// </summary>
internal unsafe interface IGemmMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile.</summary>
    static abstract int NR { get; }

    /// <summary>Depth of one packed block: an NR-column panel of it stays in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of one packed A block (a multiple of MR): the block stays in L2.</summary>
    static abstract int MC { get; }

    /// <summary>Columns of one packed B block (a multiple of NR): the block stays in L3.</summary>
    static abstract int NC { get; }

    /// <summary>
    /// c[i·ldc + j] = update(c, Σ_p a[p·MR + i]·b[p·NR + j]) for the full MR×NR tile; a and b are packed
    /// panels of depth kc ≥ 1.
    /// </summary>
    static abstract void Run(int kc, T* a, T* b, T* c, nint ldc, GemmUpdate update, T beta);

    /// <summary>
    /// A one-row product across <paramref name="panels"/> full NR-column panels of packed B (kc·NR
    /// apart) into one row of C: the row a full tile would give (same chains, same update), without
    /// the MR-1 rows of zeros a tile would also compute, which made a batch-1 product 6× the work.
    /// Returns false where the kernel family has no row form (the caller then runs tiles).
    /// </summary>
    static virtual bool RunRow(int kc, T* a, T* b, int panels, T* c, GemmUpdate update, T beta) => false;

    /// <summary>
    /// The first <paramref name="rows"/> (fewer than MR) rows of <see cref="Run"/>'s tile, written
    /// straight to C: the same chains and update as the full tile, without computing the padding rows
    /// into a buffer and merging them (a 64-row product's last 4-row panel cost more than a full one).
    /// Returns false for a row count the kernel family has no form for (the caller then runs the tile).
    /// </summary>
    static virtual bool RunRows(int kc, T* a, T* b, int rows, T* c, nint ldc, GemmUpdate update, T beta) => false;
}

/// <summary>Which microkernel family the float32 GEMM runs (the best one the hardware accelerates by default).</summary>
internal enum GemmTier
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}
