package jresnet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The package layering, checked on the compiled main classes (so a fully qualified name in the code
 * counts like an import): the tensor, model and backend core knows nothing of training, files, reports
 * or the command line, and no two packages depend on each other in a circle.
 */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("jresnet");

    @Test
    void tensorNnAndBackendDoNotDependOnTrainIoReportOrCli() {
        noClasses().that().resideInAnyPackage("jresnet.tensor..", "jresnet.nn..", "jresnet.backend..")
                .should().dependOnClassesThat()
                .resideInAnyPackage("jresnet.train..", "jresnet.io..", "jresnet.report..", "jresnet.cli..")
                .check(MAIN);
    }

    @Test
    void noPackageCycles() {
        slices().matching("jresnet.(**)").should().beFreeOfCycles().check(MAIN);
    }
}
