using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>One element: the scalar twin of the vector lanes, for tails and when no vector width is accelerated.</summary>
internal readonly unsafe struct ScalarLane<T>(T value) : ILane<ScalarLane<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _value = value;

    public static nuint Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> Load(T* source) => new(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* destination, ScalarLane<T> value) => *destination = value._value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> Broadcast(T value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> Sqrt(ScalarLane<T> x) => new(T.Sqrt(x._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> Max(ScalarLane<T> x, ScalarLane<T> y) => new(T.Max(x._value, y._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> FlushSubnormal(ScalarLane<T> x) => T.Abs(x._value) < SubnormalFlush.SmallestNormal<T>() ? default : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> operator +(ScalarLane<T> x, ScalarLane<T> y) => new(x._value + y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> operator -(ScalarLane<T> x, ScalarLane<T> y) => new(x._value - y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> operator *(ScalarLane<T> x, ScalarLane<T> y) => new(x._value * y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> operator /(ScalarLane<T> x, ScalarLane<T> y) => new(x._value / y._value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane<T> operator -(ScalarLane<T> x) => new(-x._value);
}
