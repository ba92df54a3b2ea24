package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The module README's parameter table is the one list of settings the filter parses with. */
class ReadmeParametersTest {
  @Test
  void readme_parameterTable_isHttpSettingsDescribe() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("<!-- parameters:start -->\n");
    int end = readme.indexOf("<!-- parameters:end -->");
    assertThat(start).as("README.md has the parameters markers").isNotNegative();
    assertThat(readme.substring(start + "<!-- parameters:start -->\n".length(), end))
        .isEqualTo(HttpSettings.describe());
    for (String name : HttpSettings.PARAMETERS) {
      assertThat(HttpSettings.describe()).contains("| `" + name + "` |");
    }
  }
}
