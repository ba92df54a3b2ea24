package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AppConfigTest {

  @Test
  void from_nothingGiven_defaultsAndGeneratedToken() {
    AppConfig c = AppConfig.from(new String[0], name -> null);
    assertThat(c.port()).isEqualTo(8080);
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.adminTokenGenerated()).isTrue();
    assertThat(c.adminToken()).hasSize(32);
    assertThat(c.tokensPerMinute()).isEqualTo(20_000);
    assertThat(c.maxConcurrentRuns()).isEqualTo(2);
  }

  @Test
  void from_llmBudget_fromOptionOrEnvironment() {
    Map<String, String> env = Map.of("CONTROLTOWER_TOKENS_PER_MINUTE", "5000", "CONTROLTOWER_MAX_CONCURRENT_RUNS", "4");
    AppConfig c = AppConfig.from(new String[] {"--max-concurrent-runs=1"}, env::get);
    assertThat(c.tokensPerMinute()).isEqualTo(5_000);
    assertThat(c.maxConcurrentRuns()).isEqualTo(1);
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--tokens-per-minute=-1"}, n -> null))
        .hasMessage("tokens-per-minute must be 0 (off) or more but was -1");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--max-concurrent-runs=two"}, n -> null))
        .hasMessage("max-concurrent-runs must be an integer but was 'two'");
  }

  @Test
  void from_optionBeatsEnvironment() {
    Map<String, String> env = Map.of("CONTROLTOWER_PORT", "9000", "CONTROLTOWER_ADMIN_TOKEN", "from-env-0123456789");
    AppConfig c = AppConfig.from(new String[] {"--port=9100"}, env::get);
    assertThat(c.port()).isEqualTo(9100);
    assertThat(c.adminToken()).isEqualTo("from-env-0123456789");
    assertThat(c.adminTokenGenerated()).isFalse();
  }

  @Test
  void from_badValues_failNamingSettingAndValue() {
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--port=abc"}, n -> null))
        .hasMessage("port must be an integer but was 'abc'");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--port=70000"}, n -> null))
        .hasMessage("port must be between 0 and 65535 but was 70000");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--admin-token=short"}, n -> null))
        .hasMessage("admin-token must have at least 16 characters but had 5");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--prot=1"}, n -> null))
        .hasMessageStartingWith("unknown option --prot; known options are --host, --port");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"port"}, n -> null))
        .hasMessage("options look like --name=value but got 'port'");
    assertThatThrownBy(() -> AppConfig.from(new String[0], Map.of("CONTROLTOWER_MAX_LLM_CALLS", "0")::get))
        .hasMessage("max-llm-calls must be >= 1 but was 0");
  }
}
