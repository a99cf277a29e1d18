package dev.leaderpod.autoconfigure;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.Map;

/**
 * Default identity of a candidate: the pod (host) name plus a short random suffix, so that a pod restarted under
 * the same name is a new candidate and never mistakes the old lease for its own.
 */
final class CandidateIdentity {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private CandidateIdentity() {}

    static String generate(Map<String, String> environment) {
        return hostName(environment) + "-" + suffix(5);
    }

    static String hostName(Map<String, String> environment) {
        String hostName = environment.get("HOSTNAME"); // the pod name on Kubernetes
        if (hostName == null || hostName.isBlank()) {
            try {
                hostName = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                hostName = "candidate";
            }
        }
        return hostName;
    }

    private static String suffix(int length) {
        StringBuilder suffix = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            suffix.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return suffix.toString();
    }
}
