using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>A Vector128&lt;T&gt; lane for optimizer rules (callers check Vector128.IsHardwareAccelerated).</summary>
internal readonly unsafe struct Vector128Lane<T>(Vector128<T> value) : ILane<Vector128Lane<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector128<T> _value = value;

    public static nuint Count => (nuint)Vector128<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> Load(T* source) => new(Vector128.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* destination, Vector128Lane<T> value) => value._value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> Broadcast(T value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> Sqrt(Vector128Lane<T> x) => new(Vector128.Sqrt(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> Max(Vector128Lane<T> x, Vector128Lane<T> y) => new(Vector128.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> FlushSubnormal(Vector128Lane<T> x)
        => new(Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x._value), Vector128.Create(SubnormalFlush.SmallestNormal<T>())), Vector128<T>.Zero, x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> operator +(Vector128Lane<T> x, Vector128Lane<T> y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> operator -(Vector128Lane<T> x, Vector128Lane<T> y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> operator *(Vector128Lane<T> x, Vector128Lane<T> y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> operator /(Vector128Lane<T> x, Vector128Lane<T> y) => new(x._value / y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Lane<T> operator -(Vector128Lane<T> x) => new(-x._value);
}
