using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>A Vector256&lt;T&gt; lane for optimizer rules (callers check Vector256.IsHardwareAccelerated).</summary>
internal readonly unsafe struct Vector256Lane<T>(Vector256<T> value) : ILane<Vector256Lane<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector256<T> _value = value;

    public static nuint Count => (nuint)Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> Load(T* source) => new(Vector256.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* destination, Vector256Lane<T> value) => value._value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> Broadcast(T value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> Sqrt(Vector256Lane<T> x) => new(Vector256.Sqrt(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> Max(Vector256Lane<T> x, Vector256Lane<T> y) => new(Vector256.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> FlushSubnormal(Vector256Lane<T> x)
        => new(Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x._value), Vector256.Create(SubnormalFlush.SmallestNormal<T>())), Vector256<T>.Zero, x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> operator +(Vector256Lane<T> x, Vector256Lane<T> y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> operator -(Vector256Lane<T> x, Vector256Lane<T> y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> operator *(Vector256Lane<T> x, Vector256Lane<T> y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> operator /(Vector256Lane<T> x, Vector256Lane<T> y) => new(x._value / y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane<T> operator -(Vector256Lane<T> x) => new(-x._value);
}
