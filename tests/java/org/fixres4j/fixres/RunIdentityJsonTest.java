package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.fixres4j.data.InMemoryDataset;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.io.Json;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.junit.jupiter.api.Test;

/**
 * The typed run identity and run key keep the members, order and values that checkpoints already hold: a resumed
 * run compares them with what an older checkpoint recorded.
 */
class RunIdentityJsonTest {
    private static Map<String, Object> json(Object typed) {
        return Json.parseObject(Json.write(typed));
    }

    private static List<String> keys(Object map) {
        return new ArrayList<>(((Map<?, ?>) map).keySet().stream().map(String::valueOf).toList());
    }

    @Test
    void trainIdentityMembers() {
        Map<String, Object> cosine = json(TrainTest.cfg(2).identity());
        assertEquals(List.of("resolution", "augmentation", "epochs", "batch_size", "optimizer", "schedule",
                "label_smoothing", "seed", "train_limit"), keys(cosine));
        assertEquals(List.of("kind", "lr", "min_lr", "warmup_epochs"), keys(cosine.get("schedule")));
        assertEquals(32L, cosine.get("resolution"));
        assertEquals(11L, cosine.get("seed"));
        assertTrue(((String) cosine.get("augmentation")).startsWith("random_resized_crop(size=32"), cosine.toString());
        Map<String, Object> step = json(TrainTest.cfg(2).schedule("step").step(3, 0.5).identity());
        assertEquals(List.of("kind", "lr", "min_lr", "warmup_epochs", "step_epochs", "gamma"),
                keys(step.get("schedule")));
        assertEquals("{\"kind\":\"step\",\"lr\":0.2,\"min_lr\":1.0E-4,\"warmup_epochs\":0.5,\"step_epochs\":3,"
                + "\"gamma\":0.5}", Json.write(step.get("schedule")));
    }

    @Test
    void finetuneIdentityMembers() {
        Map<String, Object> cosine = json(new FinetuneConfig(48).identity());
        assertEquals(List.of("resolution", "mode", "augment", "epochs", "batch_size", "optimizer", "schedule",
                "label_smoothing", "seed", "train_limit"), keys(cosine));
        assertEquals("{\"kind\":\"cosine\",\"lr\":0.001}", Json.write(cosine.get("schedule")));
        Map<String, Object> step = json(new FinetuneConfig(48).schedule("step").step(2, 0.1).identity());
        assertEquals("{\"kind\":\"step\",\"lr\":0.001,\"step_epochs\":2,\"gamma\":0.1}",
                Json.write(step.get("schedule")));
    }

    @Test
    void runKeyMembers() {
        ModelInfo info = new ModelInfo(EfficientNetSpec.of("efficientnet_b0"), 224, 0.875, Interpolation.BICUBIC,
                Normalization.IMAGENET, List.of());
        InMemoryDataset data = new InMemoryDataset(new byte[4], 1, 1, 1, ChannelOrder.RGB, new int[] {0, 1, 0, 1},
                List.of("a", "b"), "t", "test");
        RunCheckpoint.RunKey scratch = RunCheckpoint.runKey(TrainTest.cfg(1), info, null, data);
        assertEquals(List.of("config", "model", "data"), new ArrayList<>(scratch.members().keySet()));
        RunCheckpoint.RunKey tuned = RunCheckpoint.runKey(new FinetuneConfig(48), info, "src", data);
        Map<String, Object> m = json(tuned.members());
        assertEquals(List.of("config", "model", "source", "data"), keys(m));
        assertEquals(List.of("arch", "model", "width", "depth", "in_chans", "num_classes", "parameters", "input_size",
                "crop_pct", "interpolation", "mean", "std"), keys(m.get("model")));
        assertEquals("{\"description\":\"" + data.describe() + "\",\"size\":4}", Json.write(m.get("data")));
        assertEquals("bicubic", ((Map<?, ?>) m.get("model")).get("interpolation"));
        assertEquals(List.of(0.485, 0.456, 0.406), ((Map<?, ?>) m.get("model")).get("mean"));
    }
}
