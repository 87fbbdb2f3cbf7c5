using System.Globalization;
using System.Text;
using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// Keras's <c>model.summary()</c> for any module: <c>Console.WriteLine(model.Summary(1, 28, 28))</c>.
/// The table lists each layer with its type (the name PyTorch prints), its output shape with the
/// batch dimension as None, and its parameter count, then the totals. As in Keras, batch-norm
/// running statistics count as non-trainable parameters (float buffers; the integer batch counter
/// does not count), and frozen parameters (RequiresGrad false) are non-trainable too.
/// <para>
/// The layers of a module are its children, with <see cref="Sequential"/>, <see cref="ModuleList"/>
/// and <see cref="ModuleDict"/> children flattened into dotted names (<c>features.0</c>), as the
/// state dict names them; a custom module child is one row with all the parameters below it. A
/// functional <see cref="Model"/> lists its inputs and layers, each once in the order of its first
/// call, with a "Connected to" column (Keras's <c>linear[0][0]</c>: call 0 of layer "linear").
/// </para>
/// </summary>
public static class ModelSummary
{
    private const int LayerWidth = 29;
    private const int ShapeWidth = 26;
    private const int ParamWidth = 12;

    /// <summary>
    /// The summary of <paramref name="model"/>, found by a dry run on zeros of shape
    /// [1, ..<paramref name="inputShape"/>] (one sample's shape, without the batch dimension) in
    /// evaluation mode without gradients: training modes and running statistics are left as they
    /// were, and lazy layers are built. A functional <see cref="Model"/> knows its inputs: call it
    /// without a shape.
    /// </summary>
    public static string Summary(this Module model, params int[] inputShape) => Summary(model, inputShape, DType.Float32);

    /// <summary>The summary of <paramref name="model"/> from a dry run on an input of <paramref name="dtype"/> (int64 for a model that starts with an <see cref="Embedding"/>).</summary>
    public static string Summary(this Module model, int[] inputShape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (model is Model functional)
        {
            if (inputShape.Length > 0)
                throw new ArgumentException($"Summary: the functional model \"{functional.Name}\" knows its input shapes; call Summary() without one", nameof(inputShape));
            return Format($"Model: \"{functional.Name}\"", FunctionalRows(functional), model, connected: true);
        }
        if (inputShape.Length == 0)
            throw new ArgumentException("Summary: give the shape of one input sample, without the batch dimension, as in model.Summary(1, 28, 28)", nameof(inputShape));
        var outputs = TraceOutputShapes(model, inputShape, dtype);
        var rows = new List<Row>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        AddRows(model, "", rows, seen, outputs);
        if (rows.Count == 0) rows.Add(LayerRow(Module.SnakeCase(model.GetType().Name), model, outputs));
        return Format($"Model: \"{model.PrintedTypeName}\"", rows, model, connected: false);
    }

    private sealed record Row(string Layer, string Shape, long Params, string[] Connected);

    // Elements and bytes of a group of tensors.
    private sealed class Tally
    {
        public long Count { get; private set; }
        public long Bytes { get; private set; }

        public void Add(Tensor t)
        {
            Count += t.NumElements;
            Bytes += (long)t.NumElements * t.DType.ElementSize();
        }
    }

    // The shapes each module's calls returned in the dry run.
    private static Dictionary<Module, List<int[]>> TraceOutputShapes(Module model, int[] inputShape, DType dtype)
    {
        var shapes = new Dictionary<Module, List<int[]>>(ReferenceEqualityComparer.Instance);
        var hooks = new List<IDisposable>();
        try
        {
            foreach (var m in model.Modules())
                hooks.Add(m.RegisterForwardHook((module, _, output) =>
                {
                    if (!shapes.TryGetValue(module, out var list)) shapes[module] = list = new();
                    list.Add(output.ShapeArray.ToArray());
                }));
            using var scope = Engine.Scope();
            var sample = Module.SampleBatch(inputShape, dtype);
            model.RunInEvaluation(() => model.Call(sample));
        }
        catch (KilnException e)
        {
            throw new KilnShapeException($"Summary: the model cannot run on an input of shape {SymbolicTensor.FormatShape([-1, .. inputShape])}: {e.Message}", e);
        }
        finally
        {
            foreach (var h in hooks) h.Dispose();
        }
        return shapes;
    }

    private static void AddRows(Module parent, string prefix, List<Row> rows, HashSet<Module> seen, Dictionary<Module, List<int[]>> outputs)
    {
        foreach (var (name, child) in parent.NamedChildren())
        {
            if (!seen.Add(child)) continue;
            var path = prefix.Length == 0 ? name : prefix + "." + name;
            if (child is Sequential or ModuleList or ModuleDict) AddRows(child, path, rows, seen, outputs);
            else rows.Add(LayerRow(path, child, outputs));
        }
    }

    private static Row LayerRow(string name, Module layer, Dictionary<Module, List<int[]>> outputs)
    {
        string shape = "?";
        if (outputs.TryGetValue(layer, out var shapes))
        {
            shape = FormatBatchShape(shapes[0]);
            foreach (var s in shapes)
                if (!s.AsSpan().SequenceEqual(shapes[0])) shape = "multiple";
        }
        return new Row($"{name} ({layer.PrintedTypeName})", shape, ParameterCount(layer), []);
    }

    private static List<Row> FunctionalRows(Model model)
    {
        var rows = new List<Row>();
        var rowOf = new Dictionary<Module, int>(ReferenceEqualityComparer.Instance);
        foreach (var node in model.Nodes)
        {
            if (node.Layer is not { } layer)
            {
                rows.Add(new Row($"{node.Name} (InputLayer)", SymbolicTensor.FormatShape(node.Shape), 0, ["-"]));
                continue;
            }
            var connected = string.Join(", ", node.Inputs.Select(i => model.Nodes[i].Reference));
            var shape = SymbolicTensor.FormatShape(node.Shape);
            if (rowOf.TryGetValue(layer, out int r))
            {
                var row = rows[r];
                rows[r] = row with { Shape = row.Shape == shape ? shape : "multiple", Connected = [.. row.Connected, connected] };
                continue;
            }
            rowOf[layer] = rows.Count;
            rows.Add(new Row($"{node.Name} ({layer.PrintedTypeName})", shape, ParameterCount(layer), [connected]));
        }
        return rows;
    }

    // Parameters (each once) and floating-point buffers, as Keras counts a layer's weights.
    private static long ParameterCount(Module layer)
    {
        long n = 0;
        foreach (var p in layer.Parameters()) n += p.NumElements;
        foreach (var b in layer.Buffers())
            if (b.DType.IsFloatingPoint()) n += b.NumElements;
        return n;
    }

    private static string FormatBatchShape(int[] shape)
    {
        if (shape.Length == 0) return "()";
        var keras = shape.ToArray();
        if (keras[0] == 1) keras[0] = -1;
        return SymbolicTensor.FormatShape(keras);
    }

    private static string Format(string title, List<Row> rows, Module model, bool connected)
    {
        int layerWidth = Math.Max(LayerWidth, rows.Max(r => r.Layer.Length) + 3);
        int shapeWidth = Math.Max(ShapeWidth, rows.Max(r => r.Shape.Length) + 2);
        int paramWidth = Math.Max(ParamWidth, rows.Max(r => Number(r.Params).Length) + 2);
        int connectedWidth = connected ? Math.Max(ShapeWidth, rows.Max(r => r.Connected.Max(c => c.Length)) + 1) : 0;
        int width = layerWidth + shapeWidth + paramWidth + connectedWidth;

        var sb = new StringBuilder();
        sb.Append(title).Append('\n');
        sb.Append('_', width).Append('\n');
        Line(sb, "Layer (type)", "Output Shape", "Param #", connected ? "Connected to" : "");
        sb.Append('=', width).Append('\n');
        foreach (var row in rows)
        {
            Line(sb, row.Layer, row.Shape, Number(row.Params), row.Connected.Length > 0 ? row.Connected[0] : "");
            for (int i = 1; i < row.Connected.Length; i++) Line(sb, "", "", "", row.Connected[i]);
        }
        sb.Append('=', width).Append('\n');

        var trainable = new Tally();
        var frozen = new Tally();
        foreach (var p in model.Parameters()) (p.RequiresGrad ? trainable : frozen).Add(p);
        foreach (var b in model.Buffers())
            if (b.DType.IsFloatingPoint()) frozen.Add(b);
        sb.Append($"Total params: {Number(trainable.Count + frozen.Count)} ({Size(trainable.Bytes + frozen.Bytes)})\n");
        sb.Append($"Trainable params: {Number(trainable.Count)} ({Size(trainable.Bytes)})\n");
        sb.Append($"Non-trainable params: {Number(frozen.Count)} ({Size(frozen.Bytes)})\n");
        sb.Append('_', width).Append('\n');
        return sb.ToString();

        void Line(StringBuilder to, string layer, string shape, string parameters, string connectedTo)
        {
            var line = " " + layer.PadRight(layerWidth - 1) + shape.PadRight(shapeWidth) + parameters.PadRight(paramWidth) + connectedTo;
            to.Append(line.TrimEnd()).Append('\n');
        }
    }

    private static string Number(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    // Keras 3's readable_memory_size: 1024-based units with two decimals, ties to even as Python's format rounds them.
    private static string Size(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return Math.Round(value, 2, MidpointRounding.ToEven).ToString("0.00", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
