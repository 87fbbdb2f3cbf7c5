using Kiln;
using Kiln.IO;

// Runs a saved graph: loads MODEL.kiln with Engine.Load, reads its inputs from INPUTS.safetensors
// (input0, input1, ...) and writes its results to OUTPUTS.safetensors (output0, ...). This program
// references only the Kiln assembly, so the classes that built the graph are not there to load.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Kiln.GraphRunner MODEL.kiln INPUTS.safetensors OUTPUTS.safetensors");
    return 2;
}
using var model = Engine.Load(args[0]);
using var inputs = Safetensors.Load(args[1]);
var values = new Tensor[inputs.Tensors.Count];
for (int i = 0; i < values.Length; i++) values[i] = inputs.Tensors[$"input{i}"];
var outputs = model.Invoke(values);
Safetensors.Save(args[2], outputs.Select((t, k) => new KeyValuePair<string, Tensor>($"output{k}", t)));
Console.WriteLine($"ran {model.GraphText.Split('\n')[0]} on {values.Length} inputs");
return 0;
