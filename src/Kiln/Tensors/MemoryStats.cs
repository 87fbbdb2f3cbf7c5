namespace Kiln;

/// <summary>Tensor memory at one moment: bytes held by live tensors, bytes cached for reuse, the peak, and native allocations made.</summary>
public readonly record struct MemoryStats(long BytesInUse, long BytesCached, long PeakBytesInUse, long NativeAllocations);
