//! The record of processing activities (Art. 30), derived on demand from the registers.
use crate::{App, AppResult};
use registre_domain::ropa::{CategoryEntry, ProcessorFacts, Ropa, RopaSources};

impl App {
    /// The record as of now: one activity per purpose.
    pub async fn ropa(&self) -> AppResult<Ropa> {
        let organisation = self.organisation().await?;
        let purposes = self.purposes().await?;
        let touchpoints = self.touchpoints().await?;
        let categories: Vec<CategoryEntry> = self
            .data_categories()
            .await?
            .into_iter()
            .map(|c| CategoryEntry {
                key: c.key,
                label: c.label,
                special: c.special,
            })
            .collect();
        let processors = self.processors_with_assessments().await?;
        let facts: Vec<ProcessorFacts<'_>> = processors
            .iter()
            .map(|(processor, assessment)| ProcessorFacts {
                processor,
                assessment: assessment.as_ref(),
            })
            .collect();
        let sources = RopaSources {
            organisation: &organisation,
            purposes: &purposes,
            touchpoints: &touchpoints,
            categories: &categories,
            processors: &facts,
        };
        Ok(Ropa::build(&sources, self.now()))
    }
}
