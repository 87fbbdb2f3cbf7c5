using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>A Vector512&lt;T&gt; lane for optimizer rules (callers check Vector512.IsHardwareAccelerated).</summary>
internal readonly unsafe struct Vector512Lane<T>(Vector512<T> value) : ILane<Vector512Lane<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector512<T> _value = value;

    public static nuint Count => (nuint)Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> Load(T* source) => new(Vector512.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* destination, Vector512Lane<T> value) => value._value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> Broadcast(T value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> Sqrt(Vector512Lane<T> x) => new(Vector512.Sqrt(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> Max(Vector512Lane<T> x, Vector512Lane<T> y) => new(Vector512.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> FlushSubnormal(Vector512Lane<T> x)
        => new(Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x._value), Vector512.Create(SubnormalFlush.SmallestNormal<T>())), Vector512<T>.Zero, x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> operator +(Vector512Lane<T> x, Vector512Lane<T> y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> operator -(Vector512Lane<T> x, Vector512Lane<T> y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> operator *(Vector512Lane<T> x, Vector512Lane<T> y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> operator /(Vector512Lane<T> x, Vector512Lane<T> y) => new(x._value / y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane<T> operator -(Vector512Lane<T> x) => new(-x._value);
}
