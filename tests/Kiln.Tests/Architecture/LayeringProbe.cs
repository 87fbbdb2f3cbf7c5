// Two tiny "layers" for LayeringTests: Low.Worker uses High.Service only inside method bodies, the
// case a signature-only check would miss. High.Service using Low.Helper is allowed (downward).
namespace Kiln.Tests.Architecture.LayeringProbe.Low
{
    internal sealed class Worker
    {
        internal object Run()
        {
            Func<int> make = () => High.Service.Create().Value;
            return Enumerate().Sum() + make();
        }

        private static IEnumerable<int> Enumerate()
        {
            yield return High.Service.Counter;
        }
    }

    internal static class Helper
    {
        internal static int One() => 1;
    }
}

namespace Kiln.Tests.Architecture.LayeringProbe.High
{
    internal sealed class Service
    {
        internal static int Counter = 3;
        internal int Value { get; } = Low.Helper.One();
        internal static Service Create() => new();
    }
}
