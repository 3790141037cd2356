package org.fixres4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.WeightFiles;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fixres convert}: a torch.save weight file to safetensors (which Python's safetensors reads). */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a torch.save .pth (zip or legacy; OrderedDict, wrapped checkpoints, 'module.' prefixes) "
                + "to .safetensors. The .pth is read by an allow-list unpickler: nothing in it is executed.")
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, paramLabel = "FILE.pth", description = "Input weight file.")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE.safetensors", description = "Output file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        EvalCommand.checkOutputs(out);
        StateDict sd = WeightFiles.read(in);
        SafeTensors.write(out, sd); // atomic: temporary sibling, fsyncs, rename; a replaced file keeps its mode
        System.err.printf("fixres convert: %d tensors (%.1f MB)%s -> %s%n", sd.size(), sd.totalBytes() / 1e6,
                sd.sourceKey() == null ? "" : " from checkpoint key '" + sd.sourceKey() + "'", out);
        for (String note : sd.notes()) {
            System.err.println("  note: " + note);
        }
        return 0;
    }
}
