package dev.leaderpod.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The algorithm stands alone: no Spring, no Kubernetes client in {@code dev.leaderpod.core} (docs/design.md, introduction). */
class CoreArchitectureTest {

    private final JavaClasses core = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.leaderpod.core");

    @Test
    void coreDependsOnNeitherSpringNorFabric8() {
        noClasses()
                .that()
                .resideInAPackage("dev.leaderpod.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.springframework..",
                        "io.fabric8..",
                        "dev.leaderpod.store..",
                        "dev.leaderpod.autoconfigure..")
                .check(core);
    }

    @Test
    void localStoreDependsOnNeitherSpringNorFabric8() {
        noClasses()
                .that()
                .resideInAPackage("dev.leaderpod.store.local..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.springframework..", "io.fabric8..")
                .check(new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("dev.leaderpod.store.local"));
    }
}
