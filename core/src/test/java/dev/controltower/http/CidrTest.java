package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

  @Test
  void parse_ipv4Block_containsItsAddressesOnly() {
    Cidr c = Cidr.parse("10.1.0.0/16");

    assertThat(c.contains(IpLiterals.parse("10.1.255.7"))).isTrue();
    assertThat(c.contains(IpLiterals.parse("10.2.0.1"))).isFalse();
    assertThat(c.contains(IpLiterals.parse("::ffff:10.1.2.3"))).isTrue();
    assertThat(c.contains(IpLiterals.parse("2001:db8::1"))).isFalse();
  }

  @Test
  void parse_hostBitsSet_areCleared() {
    assertThat(Cidr.parse("10.1.2.3/8")).hasToString("10.0.0.0/8").isEqualTo(Cidr.parse("10.0.0.0/8"));
  }

  @Test
  void parse_bareAddress_isABlockOfOne() {
    assertThat(Cidr.parse("192.168.1.1")).hasToString("192.168.1.1/32");
    assertThat(Cidr.parse("::1")).hasToString("0:0:0:0:0:0:0:1/128");
  }

  @Test
  void parse_ipv6Block_containsItsAddresses() {
    Cidr c = Cidr.parse("2001:db8:ffff::/48");

    assertThat(c.contains(IpLiterals.parse("2001:db8:ffff:1::9"))).isTrue();
    assertThat(c.contains(IpLiterals.parse("2001:db8:fffe::9"))).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10.0.0.0/33", "10.0.0/8", "10.0.0.256/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.1:80",
      "[::1]", "proxy.internal", "::1/129", "10.0.0.0/8/8", "010.0.0.0/8"})
  void parse_malformed_isRejectedNamingTheText(String text) {
    assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text.strip() + "'");
  }

  @Test
  void ipLiterals_parse_acceptsLiteralsOnly() {
    assertThat(IpLiterals.parse("1.2.3.4")).containsExactly(1, 2, 3, 4);
    assertThat(IpLiterals.parse("1.2.3.4:8080")).containsExactly(1, 2, 3, 4);
    assertThat(IpLiterals.parse("[::ffff:1.2.3.4]:443")).containsExactly(1, 2, 3, 4);
    assertThat(IpLiterals.parse("fe80::1%eth0")).hasSize(16);
    assertThat(IpLiterals.parse("1.2.3")).isNull();
    assertThat(IpLiterals.parse("1.2.3.4.5")).isNull();
    assertThat(IpLiterals.parse("01.2.3.4")).isNull();
    assertThat(IpLiterals.parse("localhost")).isNull();
    assertThat(IpLiterals.parse("unknown")).isNull();
    assertThat(IpLiterals.parse("_hidden")).isNull();
    assertThat(IpLiterals.parse("[::1")).isNull();
    assertThat(IpLiterals.parse("::g")).isNull();
    assertThat(IpLiterals.parse("1".repeat(65))).isNull();
  }
}
