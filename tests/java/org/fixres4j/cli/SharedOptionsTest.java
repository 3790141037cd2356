package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The option mixins every command shares: one declaration (and help text) of --batch, --threads, --seed and the
 * model arguments, each command's own batch default, and --model told apart as a name or a file.
 */
class SharedOptionsTest {
    private static CommandLine parsed(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.parseArgs(args);
        return cl;
    }

    @Test
    void eachCommandKeepsItsBatchDefault() throws Exception {
        assertEquals(32, ((EvalCommand) parsed(new EvalCommand(), "--weights", "w", "--data", "d").getCommand())
                .pre.compute.batch());
        assertEquals(32, ((RecommendCommand) parsed(new RecommendCommand()).getCommand()).pre.compute.batch());
        assertEquals(8, ((PredictCommand) parsed(new PredictCommand(), "a.jpg").getCommand()).model.compute.batch());
        assertEquals(8, ((LogitsCommand) parsed(new LogitsCommand(), "--out", "o.npy", "a.jpg").getCommand())
                .model.compute.batch());
        RunOptions train = ((TrainCommand) parsed(new TrainCommand()).getCommand()).run;
        assertEquals(64, train.batch());
        assertEquals(List.of(10.0, 0.1, 0.9, 5e-5), List.of((double) train.epochs, train.lr, train.momentum,
                train.weightDecay), "train: timm's recipe");
        RunOptions finetune = ((FinetuneCommand) parsed(new FinetuneCommand(), "--res", "48").getCommand()).run;
        assertEquals(32, finetune.batch());
        assertEquals(List.of(1.0, 1e-3, 0.9, 1e-4), List.of((double) finetune.epochs, finetune.lr, finetune.momentum,
                finetune.weightDecay), "finetune: FixRes's");
        assertEquals(5, ((PredictCommand) parsed(new PredictCommand(), "-b", "5", "a.jpg").getCommand()).model
                .compute.batch());
        // the help shows the command's own default
        CommandLine predict = new CommandLine(new PredictCommand());
        OptionSpec batch = predict.getCommandSpec().findOption("--batch");
        assertEquals("8", predict.getCommandSpec().defaultValueProvider().defaultValue(batch));
        assertTrue(predict.getUsageMessage().replaceAll("\\s+", " ").contains("(over all ranks) (default: 8)"),
                predict.getUsageMessage());
    }

    @Test
    void everyCommandThatLoadsAModelTakesTheSameModelArguments() {
        CommandLine main = new CommandLine(new Main());
        List<CommandLine> commands = List.of(main.getSubcommands().get("predict"), main.getSubcommands().get("logits"),
                main.getSubcommands().get("eval"), main.getSubcommands().get("recommend"),
                main.getSubcommands().get("finetune"), main.getSubcommands().get("bench").getSubcommands().get("model"));
        OptionSpec arch = commands.get(0).getCommandSpec().findOption("--arch");
        for (CommandLine c : commands) {
            for (String name : List.of("--arch", "--model", "--weights")) {
                OptionSpec o = c.getCommandSpec().findOption(name);
                assertNotNull(o, c.getCommandName() + " " + name);
            }
            assertEquals(arch.description()[0], c.getCommandSpec().findOption("--arch").description()[0]);
        }
        for (String name : List.of("eval", "recommend", "predict", "logits", "train", "finetune")) {
            CommandLine c = main.getSubcommands().get(name);
            assertNotNull(c.getCommandSpec().findOption("--batch"), name);
            assertNotNull(c.getCommandSpec().findOption("--threads"), name);
            assertEquals(commands.get(0).getCommandSpec().findOption("--threads").description()[0],
                    c.getCommandSpec().findOption("--threads").description()[0], name);
        }
        for (String name : List.of("eval", "recommend", "train", "finetune")) {
            assertNotNull(main.getSubcommands().get(name).getCommandSpec().findOption("--seed"), name);
        }
    }

    @Test
    void modelIsANameOrAFileByItsValue(@TempDir Path dir) throws IOException {
        ModelArgs name = new ModelArgs();
        name.model = "tf_efficientnet_b0.ap_in1k";
        assertEquals("tf_efficientnet_b0.ap_in1k", name.arch());
        assertNull(name.weights());
        assertThrows(IllegalArgumentException.class, name::requiredWeights);

        ModelArgs file = new ModelArgs();
        file.model = "trained.safetensors";
        assertEquals(Path.of("trained.safetensors"), file.weights());
        assertNull(file.arch());

        Path plain = Files.createFile(dir.resolve("model-without-suffix"));
        ModelArgs existing = new ModelArgs();
        existing.model = plain.toString();
        existing.arch = "efficientnet_b0";
        assertEquals(plain, existing.weights());
        assertSame("efficientnet_b0", existing.arch());

        ModelArgs twice = new ModelArgs();
        twice.model = "efficientnet_b0";
        twice.arch = "efficientnet_b1";
        assertTrue(assertThrows(IllegalArgumentException.class, twice::arch).getMessage().contains("--arch"));
        ModelArgs twoFiles = new ModelArgs();
        twoFiles.model = "a.safetensors";
        twoFiles.weights = Path.of("b.safetensors");
        assertTrue(assertThrows(IllegalArgumentException.class, twoFiles::weights).getMessage()
                .contains("--weights"));
    }

    @Test
    void badSharedOptionsAreOneLineErrors() {
        Run r = EvalFixtures.capture(() -> Main.execute("predict", "--weights", "missing.safetensors", "-b", "0",
                "a.jpg"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--batch must be in 1..65536, got 0"), r.err());
        Run w = EvalFixtures.capture(() -> Main.execute("predict", "a.jpg"));
        assertEquals(2, w.code(), w.err());
        assertTrue(w.err().contains("give the model file: --weights FILE"), w.err());
    }
}
